/*
 * hal_gpio.c — pins and pin interrupts of the BL602 (GPIO0..22) on the SDK's
 * bl_gpio / hal_gpio calls, and the global interrupt lock.
 *
 * The SDK cannot unregister a GPIO handler, calls every handler it has from
 * one shared interrupt, and unmasks a pin again after its handler returns.
 * So each pin gets one fixed trampoline, registered once; "disabled" is kept
 * here as well as in the mask, and the trampoline drops an edge that comes
 * in while the pin is disabled.  The trampoline clears the pin's interrupt
 * status, calls the core's callback (which only records the edge) and wakes
 * the loop task.  Nothing else happens in interrupt context.
 */
#include <stddef.h>

#include <FreeRTOS.h>
#include <task.h>

#include <bl602_glb.h>
#include <bl_gpio.h>
#include <bl_pwm.h>
#include <hal_gpio.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define BL602_PIN_COUNT 23

struct pin_irq {
    hal_pin_irq_fn callback;
    void *callback_arg;
    volatile bool enabled;
};

static struct pin_irq pin_irqs[BL602_PIN_COUNT];
static volatile uint8_t output_latch[BL602_PIN_COUNT];

static bool pin_valid(int pin) { return pin >= 0 && pin < BL602_PIN_COUNT; }

/* The five PWM units: GPIO n can only be on unit n % 5. */
#define BL602_PWM_UNITS 5
#define BL602_PWM_HZ 1000
static int8_t pwm_pin[BL602_PWM_UNITS] = {-1, -1, -1, -1, -1};

static void pwm_release(int pin)
{
    int unit = pin % BL602_PWM_UNITS;
    if (pwm_pin[unit] == pin) {
        bl_pwm_stop((uint8_t)unit);
        pwm_pin[unit] = -1;
    }
}

int hal_pin_count(void) { return BL602_PIN_COUNT; }

int hal_pin_mode(int pin, enum hal_pin_mode mode)
{
    if (!pin_valid(pin))
        return HAL_EINVAL;
    switch (mode) {
    case HAL_PIN_DISABLED:
        pwm_release(pin);
        GLB_GPIO_Set_HZ((GLB_GPIO_Type)pin);
        return HAL_OK;
    case HAL_PIN_INPUT:
        return bl_gpio_enable_input((uint8_t)pin, 0, 0) == 0 ? HAL_OK : HAL_EIO;
    case HAL_PIN_INPUT_PULLUP:
        return bl_gpio_enable_input((uint8_t)pin, 1, 0) == 0 ? HAL_OK : HAL_EIO;
    case HAL_PIN_INPUT_PULLDOWN:
        return bl_gpio_enable_input((uint8_t)pin, 0, 1) == 0 ? HAL_OK : HAL_EIO;
    case HAL_PIN_OUTPUT:
        /* The output value register is separate from the output enable:
         * load the latch first so the pin starts at the intended level. */
        bl_gpio_output_set((uint8_t)pin, output_latch[pin]);
        return bl_gpio_enable_output((uint8_t)pin, 0, 0) == 0 ? HAL_OK : HAL_EIO;
    }
    return HAL_EINVAL;
}

int hal_pin_write(int pin, bool level)
{
    if (!pin_valid(pin))
        return HAL_EINVAL;
    output_latch[pin] = level;
    if (pwm_pin[pin % BL602_PWM_UNITS] == pin) {
        pwm_release(pin); /* back to a plain GPIO at the level */
        bl_gpio_output_set((uint8_t)pin, level);
        return bl_gpio_enable_output((uint8_t)pin, 0, 0) == 0 ? HAL_OK : HAL_EIO;
    }
    bl_gpio_output_set((uint8_t)pin, level);
    return HAL_OK;
}

int hal_pin_pwm(int pin, uint16_t permille)
{
    if (!pin_valid(pin) || permille > 1000)
        return HAL_EINVAL;
    if (permille == 0 || permille == 1000)
        return hal_pin_write(pin, permille == 1000);
    int unit = pin % BL602_PWM_UNITS;
    if (pwm_pin[unit] >= 0 && pwm_pin[unit] != pin)
        return HAL_EBUSY;
    if (pwm_pin[unit] != pin) {
        if (bl_pwm_init((uint8_t)unit, (uint8_t)pin, BL602_PWM_HZ) != 0)
            return HAL_EIO;
        pwm_pin[unit] = (int8_t)pin;
    }
    if (bl_pwm_set_duty((uint8_t)unit, (float)permille / 10.0f) != 0 || bl_pwm_start((uint8_t)unit) != 0)
        return HAL_EIO;
    return HAL_OK;
}

bool hal_pin_read(int pin) { return pin_valid(pin) && bl_gpio_input_get_value((uint8_t)pin) != 0; }

static int trigger_of(enum hal_pin_edge edge)
{
    return edge == HAL_EDGE_RISING ? GPIO_INT_TRIG_POS_PULSE : GPIO_INT_TRIG_NEG_PULSE;
}

/* Called by the SDK's GPIO interrupt with its own context node: the pin
 * number is in the node, our argument is the pin's slot. */
static void pin_trampoline(void *sdk_context)
{
    const gpio_ctx_t *context = sdk_context;
    int pin = context->gpioPin;
    struct pin_irq *irq = context->arg;
    bl_gpio_int_clear((uint8_t)pin, 1);
    if (irq->enabled) {
        irq->callback(pin, irq->callback_arg);
        bl602_wake_loop_from_isr();
    }
    bl_gpio_int_clear((uint8_t)pin, 0);
}

int hal_pin_irq_attach(int pin, enum hal_pin_edge edge, hal_pin_irq_fn fn, void *arg)
{
    if (!pin_valid(pin) || !fn)
        return HAL_EINVAL;
    struct pin_irq *irq = &pin_irqs[pin];
    if (irq->callback)
        return HAL_EBUSY;
    irq->callback = fn;
    irq->callback_arg = arg;
    irq->enabled = false;
    /* Synchronous sampling: the BL0937's pulses are a few microseconds wide. */
    if (hal_gpio_register_handler(pin_trampoline, pin, GPIO_INT_CONTROL_SYNC, trigger_of(edge), irq) != 0) {
        irq->callback = NULL;
        return HAL_EIO;
    }
    bl_gpio_intmask((uint8_t)pin, 1); /* registration unmasks it: the HAL starts disabled */
    return HAL_OK;
}

int hal_pin_irq_enable(int pin, enum hal_pin_edge edge, bool enabled)
{
    if (!pin_valid(pin) || !pin_irqs[pin].callback)
        return HAL_EINVAL;
    uint32_t state = hal_irq_lock();
    bl_gpio_intmask((uint8_t)pin, 1);
    pin_irqs[pin].enabled = enabled;
    if (enabled) {
        bl_set_gpio_intmod((uint8_t)pin, GPIO_INT_CONTROL_SYNC, (uint8_t)trigger_of(edge));
        bl_gpio_int_clear((uint8_t)pin, 1); /* an edge latched while masked is dropped */
        bl_gpio_int_clear((uint8_t)pin, 0);
        bl_gpio_intmask((uint8_t)pin, 0);
    }
    hal_irq_unlock(state);
    return HAL_OK;
}

/* mstatus.MIE is the one global interrupt enable of the E24 core. */
uint32_t hal_irq_lock(void)
{
    uint32_t previous;
    __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(previous)::"memory");
    return previous & 8u;
}

void hal_irq_unlock(uint32_t previous)
{
    if (previous & 8u)
        __asm__ volatile("csrsi mstatus, 8" ::: "memory");
}
