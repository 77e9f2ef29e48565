"""The embedded broker: a worker polling the folder while messages are written reads each one whole."""

from __future__ import annotations

import threading

from kombu import Connection
from kombu.transport import filesystem

from certhub.broker import Transport

MESSAGES = 3000


def race(transport, folder) -> tuple[list[int], list[Exception]]:
    """One thread writes ``MESSAGES`` messages while another takes them as fast as it can."""
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    received: list[int] = []
    errors: list[Exception] = []
    written = threading.Event()

    def produce():
        with Connection(transport=transport, transport_options=options) as connection:
            channel = connection.default_channel
            for number in range(MESSAGES):
                channel._put("race", {"n": number})
        written.set()

    def consume():
        with Connection(transport=transport, transport_options=options) as connection:
            channel = connection.default_channel
            while len(received) + len(errors) < MESSAGES:
                try:
                    received.append(channel._get("race")["n"])
                except filesystem.Empty:
                    if written.is_set() and not any(folder.glob("*.race.msg")):
                        return
                except Exception as exc:  # a message read before it was written whole
                    errors.append(exc)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return received, errors


def test_a_worker_polling_the_folder_never_reads_a_message_half_written(tmp_path):
    received, errors = race(Transport, tmp_path)

    assert errors == []
    assert sorted(received) == list(range(MESSAGES))
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_a_filesystem_url_means_the_atomic_transport_and_another_url_its_own():
    """The alias is chosen by the URL: a test or an operator that points Celery at another broker gets that one."""
    from config.celery import app

    with app.connection_for_write("filesystem://") as connection:
        assert isinstance(connection.transport, Transport)
    with app.connection_for_write("memory://") as connection:
        assert not isinstance(connection.transport, Transport)
