/* sun.c — NOAA sunrise / sunset; see sun.h. */
#include "sun.h"

#include <math.h>

#include "core/util/timefmt.h"

#define PI 3.14159265358979323846
#define RAD(deg) ((deg) * PI / 180.0)

bool sun_event_utc(int64_t day, double latitude, double longitude, bool rise, int64_t *utc_s)
{
    struct civil_time date;
    timefmt_civil(day * 86400, &date);
    double gamma = 2.0 * PI / (timefmt_is_leap(date.year) ? 366.0 : 365.0) * date.yday; /* at noon */
    double eqtime = 229.18 * (0.000075 + 0.001868 * cos(gamma) - 0.032077 * sin(gamma) -
                              0.014615 * cos(2 * gamma) - 0.040849 * sin(2 * gamma)); /* minutes */
    double decl = 0.006918 - 0.399912 * cos(gamma) + 0.070257 * sin(gamma) - 0.006758 * cos(2 * gamma) +
                  0.000907 * sin(2 * gamma) - 0.002697 * cos(3 * gamma) + 0.00148 * sin(3 * gamma);
    double lat = RAD(latitude);
    double cos_ha = cos(RAD(90.833)) / (cos(lat) * cos(decl)) - tan(lat) * tan(decl);
    if (!(cos_ha >= -1.0 && cos_ha <= 1.0))
        return false; /* polar day (< -1) or polar night (> 1) */
    double ha = acos(cos_ha) * 180.0 / PI;
    double minutes = 720.0 - 4.0 * (longitude + (rise ? ha : -ha)) - eqtime;
    *utc_s = day * 86400 + (int64_t)(minutes * 60.0 + 0.5);
    return true;
}
