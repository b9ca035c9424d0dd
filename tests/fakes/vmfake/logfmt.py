"""logrus' text formatter as Lima and Colima print it when stderr is not a terminal."""
import datetime
import sys

from .common import Exit


def _stamp():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _quote(message):
    if message and all(c.isalnum() or c in "-._/@^+" for c in message):
        return message
    return '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log(level, message, **fields):
    extra = "".join(f" {k}={_quote(str(v))}" for k, v in fields.items())
    sys.stderr.write(f'time="{_stamp()}" level={level} msg={_quote(message)}{extra}\n')
    sys.stderr.flush()


def info(message, **fields):
    log("info", message, **fields)


def warning(message, **fields):
    log("warning", message, **fields)


def fatal(message, code=1):
    """logrus.Fatal: the line, then exit 1."""
    log("fatal", message)
    return Exit(code)
