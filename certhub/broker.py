"""The embedded default's Celery broker: kombu's filesystem transport, with each message written atomically.

kombu's filesystem channel creates a message's file under its final name and
then writes the body into it. A worker that lists the folder in between moves
the empty file away, reads nothing and fails to decode it: the message is lost
and the worker's consumer stops. The faster the worker polls, the likelier
that is. Here the body is written to a hidden file that no queue's name
matches, then renamed into place (a rename within one folder is atomic), so a
worker only ever sees whole messages.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written whole under a name no reader takes, then renamed."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"  # kombu's own name: the reader sorts by it
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: the reader matches what follows a name's first dot with "<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
