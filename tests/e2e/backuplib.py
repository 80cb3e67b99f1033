"""Backup files (src/core/backup/backup_format.h) for the tests: read one
into its records, write one back (CRCs recomputed), and the plug's
backup / restore endpoints over HTTP.  An independent reading of the
format: the tests check the firmware's writer against it."""
import http.client
import struct
import zlib

MAGIC = b"OPBACKUP"
HEADER = struct.Struct("<8sHHI16s16s")  # magic, format, flags, total, model, firmware
RECORD = struct.Struct("<BBBBII")       # type, version, name length, 0, data length, data CRC
SECRETS, ENERGY = 1, 2
SETTINGS, FILE, ENERGY_REC, HISTORY_REC = 1, 2, 3, 4

# struct config (src/core/storage/config.h, version 9): offsets the tests use
OFF_DEVICE_NAME = 0
OFF_POWER_ON_STATE = 33
OFF_WIFI_PASSWORD = 222  # 2 x 65 bytes
OFF_WEB = 368            # password salt (16) and hash (32)
CONFIG_SIZE = 2028


def crc(data):
    return zlib.crc32(data) & 0xFFFFFFFF


class Backup:
    def __init__(self, raw):
        magic, self.format, self.flags, self.total, model, fw = HEADER.unpack_from(raw)
        assert magic == MAGIC, raw[:8]
        self.model = model.rstrip(b"\0")
        self.firmware = fw.rstrip(b"\0")
        assert self.total == len(raw), (self.total, len(raw))
        assert crc(raw[:-4]) == struct.unpack_from("<I", raw, len(raw) - 4)[0], "trailer CRC"
        self.records = []  # [type, version, name (str), data (bytes)]
        at = HEADER.size
        while at < len(raw) - 4:
            rtype, version, name_len, zero, length, data_crc = RECORD.unpack_from(raw, at)
            assert zero == 0
            name = raw[at + RECORD.size:at + RECORD.size + name_len].decode()
            start = at + RECORD.size + name_len
            data = raw[start:start + length]
            assert len(data) == length and crc(data) == data_crc, name
            self.records.append([rtype, version, name, data])
            at = start + length
        assert at == len(raw) - 4

    def of_type(self, rtype):
        return [r for r in self.records if r[0] == rtype]

    @property
    def settings(self):
        (record,) = self.of_type(SETTINGS)
        return record[3]

    def files(self):
        return {r[2]: r[3] for r in self.of_type(FILE)}

    def encode(self, model=None, fmt=None, magic=MAGIC):
        body = b""
        for rtype, version, name, data in self.records:
            body += RECORD.pack(rtype, version, len(name.encode()), 0, len(data), crc(data)) + name.encode() + data
        total = HEADER.size + len(body) + 4
        head = HEADER.pack(magic, self.format if fmt is None else fmt, self.flags, total,
                           self.model if model is None else model, self.firmware)
        raw = head + body
        return raw + struct.pack("<I", crc(raw))

    def set_settings(self, offset, data):
        for r in self.records:
            if r[0] == SETTINGS:
                r[3] = r[3][:offset] + data + r[3][offset + len(data):]


def request(port, method, path, body=None, headers=None, timeout=30, content_type="application/octet-stream"):
    """One request on its own connection: (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Connection": "close"}
        if body is not None:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def get_backup(port, query="", headers=None):
    status, raw = request(port, "GET", "/api/backup" + query, headers=headers)
    assert status == 200, (status, raw[:200])
    return raw
