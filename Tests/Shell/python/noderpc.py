"""JSON-RPC calls to an embedded node of the shell tests (127.0.0.1, user u, password p), with the standard library."""
import base64
import json
import urllib.request


def rpc(port, method, params=None):
    """The result of `method` with `params` on the node whose RPC listens on 127.0.0.1:`port`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}", data=json.dumps({"id": 1, "method": method, "params": params or []}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode(), "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())["result"]
