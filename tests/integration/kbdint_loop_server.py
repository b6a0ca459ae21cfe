#!/usr/bin/env python3
"""A hostile SSH target for the vaulted-password tests (python3-paramiko).

Listens on 127.0.0.1:--port, offers only keyboard-interactive, and answers
every response with another "Password: " prompt: it never accepts and never
refuses. Logs "round N" on stderr for each response a client sends, and
"closed after N rounds" when the client goes away. Runs until killed.
Test-only code; it listens only on loopback.
"""

import argparse
import socket
import sys
import threading

import paramiko


def log(text):
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class LoopingServer(paramiko.ServerInterface):
    def __init__(self):
        self.rounds = 0

    def get_allowed_auths(self, username):
        return "keyboard-interactive"

    def check_auth_interactive(self, username, submethods):
        return self._query()

    def check_auth_interactive_response(self, responses):
        self.rounds += 1
        log("round %d" % self.rounds)
        return self._query()

    @staticmethod
    def _query():
        q = paramiko.InteractiveQuery("", "")
        q.add_prompt("Password: ", False)
        return q


def serve(conn, host_key):
    server = LoopingServer()
    t = paramiko.Transport(conn)
    t.add_server_key(host_key)
    try:
        t.start_server(server=server)
        while t.is_active():
            t.join(0.1)
    except Exception as e:  # a client that drops mid-handshake
        log("transport error: %s" % e)
    finally:
        log("closed after %d rounds" % server.rounds)
        t.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    host_key = paramiko.ECDSAKey.generate()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port))
    s.listen(8)
    log("listening on %d" % args.port)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, host_key), daemon=True).start()


if __name__ == "__main__":
    main()
