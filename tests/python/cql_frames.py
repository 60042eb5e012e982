"""Raw CQL v4 frames over a plain socket, for the malformed-input tests.

Written from native_protocol_v4.spec (sections 2 and 3), independently of the server's code.
"""
import socket
import struct

HEADER = struct.Struct(">BBhBi")  # version, flags, stream, opcode, length

OP_ERROR, OP_STARTUP, OP_READY, OP_OPTIONS, OP_SUPPORTED = 0x00, 0x01, 0x02, 0x05, 0x06
OP_QUERY, OP_RESULT = 0x07, 0x08

# Bound for a server that never answers: a failure, not a timing check.
READ_BOUND_S = 30


def frame(opcode, body=b"", stream=0, flags=0, version=4, length=None):
    return HEADER.pack(version, flags, stream, opcode,
                       len(body) if length is None else length) + body


def string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def long_string(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def string_map(m):
    return struct.pack(">H", len(m)) + b"".join(string(k) + string(v) for k, v in m.items())


def startup(stream=0, options=None):
    return frame(OP_STARTUP, string_map(options or {"CQL_VERSION": "3.0.0"}), stream=stream)


def query(text, stream=0, values=None):
    """QUERY at consistency ONE; with `values` (a list of bytes, or None for null) the flag
    0x01 and the values as [short] n then n [value]s (section 4.1.4)."""
    if values is None:
        return frame(OP_QUERY, long_string(text) + struct.pack(">HB", 1, 0), stream=stream)
    body = long_string(text) + struct.pack(">HBH", 1, 0x01, len(values))
    for v in values:
        body += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return frame(OP_QUERY, body, stream=stream)


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_BOUND_S)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_frame(self):
        """(version, flags, stream, opcode, body), or None at a clean end of stream."""
        if not self._fill(9):
            if self.buf:
                raise AssertionError("stream ended inside a frame header: %r" % self.buf)
            return None
        version, flags, stream, opcode, length = HEADER.unpack(self.buf[:9])
        if not self._fill(9 + length):
            raise AssertionError("stream ended inside a frame body")
        body = self.buf[9:9 + length]
        self.buf = self.buf[9 + length:]
        return version, flags, stream, opcode, body

    def at_eof(self):
        """True when the server closed the connection (after any frames already read)."""
        return self.read_frame() is None

    def close(self):
        self.sock.close()


def parse_error(body):
    """(code, message) of an ERROR body."""
    code, n = struct.unpack(">iH", body[:6])
    return code, body[6:6 + n].decode()


def parse_string_multimap(body):
    pos = 0
    (n,) = struct.unpack_from(">H", body, pos)
    pos += 2
    out = {}
    for _ in range(n):
        (kl,) = struct.unpack_from(">H", body, pos)
        key = body[pos + 2:pos + 2 + kl].decode()
        pos += 2 + kl
        (vn,) = struct.unpack_from(">H", body, pos)
        pos += 2
        values = []
        for _ in range(vn):
            (vl,) = struct.unpack_from(">H", body, pos)
            values.append(body[pos + 2:pos + 2 + vl].decode())
            pos += 2 + vl
        out[key] = values
    return out
