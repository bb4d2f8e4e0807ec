"""Run the real Tycho API (tycho-api's Flask app) on 127.0.0.1; print ``PORT <n>`` once it listens.

Run by the real-server suite with the interpreter of ``.realserver-venvs/<release>`` (see
setup_server.py), with ``KUBECONFIG`` pointing at the test's fake Kubernetes API. tycho-api's own
``__main__`` binds 0.0.0.0; this binds loopback only, on a port the OS picks.
"""

import sys

from tycho.api import app  # connects to Kubernetes through KUBECONFIG on import
from werkzeug.serving import make_server

server = make_server("127.0.0.1", 0, app, threaded=True)
sys.stdout.write(f"PORT {server.server_port}\n")
sys.stdout.flush()
server.serve_forever()
