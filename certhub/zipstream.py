"""A ZIP archive written as it is sent: members go out one chunk at a time, nothing is held whole in memory.

``zipfile`` writes to any stream; given one it cannot seek, it puts each
member's sizes and checksum after its data (a data descriptor), which every
unzip reads. :func:`zip_stream` hands the bytes to a streaming response as
soon as ``zipfile`` has written them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator

# A member's content: bytes, or an iterable of byte chunks (a file read piece by piece, CSV lines).
Member = tuple[str, bytes | Iterable[bytes]]


class _Pipe(io.RawIOBase):
    """A write-only stream that keeps what was written until it is drained (and cannot seek)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(members: Iterable[Member]) -> Iterator[bytes]:
    """The archive of ``members`` (deflated), as byte chunks: one or more per member, then the directory."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            chunks = [content] if isinstance(content, bytes) else content
            with archive.open(name, mode="w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
                    if data := pipe.drain():
                        yield data
            yield pipe.drain()
    yield pipe.drain()
