"""The Thrift compact protocol, read: enough of it for the integration tests to walk Parquet
footers and page headers on their own, apart from the project's reader (docs/parquet.md)."""


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def unzigzag(v):
    return (v >> 1) ^ -(v & 1)


def thrift_value(b, i, t):
    if t in (1, 2):
        return t == 1, i
    if t == 3:
        return b[i], i + 1
    if t in (4, 5, 6):
        v, i = varint(b, i)
        return unzigzag(v), i
    if t == 7:
        return b[i:i + 8], i + 8
    if t == 8:
        n, i = varint(b, i)
        return b[i:i + n], i + n
    if t in (9, 10):
        h = b[i]
        i += 1
        n, et = h >> 4, h & 0x0F
        if n == 15:
            n, i = varint(b, i)
        out = []
        for _ in range(n):
            if et in (1, 2):
                out.append(b[i] == 1)
                i += 1
            else:
                v, i = thrift_value(b, i, et)
                out.append(v)
        return out, i
    if t == 12:
        return thrift_struct(b, i)
    raise ValueError(f"thrift type {t} at {i}")


def thrift_struct(b, i):
    fields, last = {}, 0
    while True:
        h = b[i]
        i += 1
        if h == 0:
            return fields, i
        t, delta = h & 0x0F, h >> 4
        if delta:
            fid = last + delta
        else:
            z, i = varint(b, i)
            fid = unzigzag(z)
        last = fid
        fields[fid], i = thrift_value(b, i, t)
