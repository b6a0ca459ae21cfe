#!/usr/bin/env python3
"""A hostile SSH client for the flow-control tests (python3-paramiko).

Logs in to the broker on 127.0.0.1 by keyboard-interactive, reading the
password and the TOTP code from $PC_ASKPASS_DIR/password and /code (the
same files the askpass script of the tests uses), then does one of:

  flood     opens --channels exec channels running --command and sends up
            to --bytes on each, ignoring the window the broker granted;
            then opens one more channel and runs `echo alive` on it.
  channels  opens --channels session channels running --command, one after
            the other, and reports which opens were refused.

Prints one JSON object on stdout. In flood mode, per channel: `sent` (bytes
sent), `granted` (the initial window plus every window adjust the broker
sent) and `closed` (the broker closed the channel). Test-only code; it
talks only to loopback.
"""

import argparse
import json
import os
import sys
import time

import paramiko


def read_secret(name):
    with open(os.path.join(os.environ["PC_ASKPASS_DIR"], name)) as f:
        return f.read().strip()


def login(port, spec):
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=20)
    password, code = read_secret("password"), read_secret("code")

    def answer(_title, _instructions, prompts):
        out = []
        for text, _echo in prompts:
            out.append(password if "Password" in text else code)
        return out

    t.auth_interactive(spec, answer)
    if not t.is_authenticated():
        raise SystemExit("not authenticated")
    return t


def ignore_window(chan):
    # paramiko waits for the peer's window in _wait_for_send_window; this
    # one never waits and never counts down, so out_window_size ends up as
    # everything the broker ever granted.
    def no_wait(size):
        if chan.closed or chan.eof_sent:
            return 0
        return min(size, chan.out_max_packet_size - 64)

    chan._wait_for_send_window = no_wait


def flood(t, args):
    chans = []
    for _ in range(args.channels):
        c = t.open_session(timeout=20)
        c.exec_command(args.command)
        ignore_window(c)
        chans.append({"chan": c, "sent": 0})
    chunk = b"x" * 32768
    deadline = time.time() + args.timeout
    active = list(chans)
    while active and time.time() < deadline:
        for st in list(active):
            c = st["chan"]
            if c.closed or st["sent"] >= args.bytes:
                active.remove(st)
                continue
            try:
                n = c.send(chunk)
            except (OSError, EOFError, paramiko.SSHException):
                n = 0
            if n <= 0:
                active.remove(st)
                continue
            st["sent"] += n
    # Give the broker's closes time to arrive.
    wait_until = time.time() + 10
    while time.time() < wait_until and not all(st["chan"].closed for st in chans):
        time.sleep(0.05)
    report = {
        "channels": [
            {
                "sent": st["sent"],
                "granted": st["chan"].out_window_size,
                "closed": bool(st["chan"].closed),
            }
            for st in chans
        ]
    }
    # The connection carries on: a new channel still works (after our
    # replies to the broker's closes went out).
    time.sleep(0.5)
    try:
        c = t.open_session(timeout=20)
        c.exec_command("echo alive")
        out = b""
        c.settimeout(20)
        while True:
            data = c.recv(4096)
            if not data:
                break
            out += data
        report["alive"] = out.decode(errors="replace")
    except Exception as e:  # noqa: BLE001 - reported, not raised
        report["alive_error"] = repr(e)
    return report


def channels(t, args):
    results, opened = [], []
    for _ in range(args.channels):
        try:
            c = t.open_session(timeout=20)
            c.exec_command(args.command)
            opened.append(c)
            results.append({"ok": True})
        except paramiko.ChannelException as e:
            results.append({"ok": False, "code": e.code, "text": e.text})
        except Exception as e:  # noqa: BLE001 - reported, not raised
            results.append({"ok": False, "error": repr(e)})
    # Closing one frees a slot: a new open is accepted again.
    after_close = None
    if opened:
        opened[0].close()
        time.sleep(0.5)
        try:
            c = t.open_session(timeout=20)
            c.exec_command("echo again")
            c.settimeout(20)
            after_close = c.recv(4096).decode(errors="replace")
        except Exception as e:  # noqa: BLE001 - reported, not raised
            after_close = repr(e)
    return {"results": results, "after_close": after_close}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--mode", choices=["flood", "channels"], required=True)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--bytes", type=int, default=64 << 20)
    ap.add_argument("--command", default="sleep 600")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    t = login(args.port, args.spec)
    try:
        report = flood(t, args) if args.mode == "flood" else channels(t, args)
    finally:
        t.close()
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
