"""Manual check (not run by the test suite): a live classic Jupyter Notebook in headless Chromium runs a notebook
through the MLCourse kernel, then the page is checked (charts drawn, no errors) and a screenshot written.

Needs Debian's python3-notebook and chromium, and the kernel installed where JUPYTER_PATH points:
    dotnet lib/MLCourse.Cli/bin/Release/net10.0/MLCourse.Cli.dll kernel install --prefix /tmp/k
    JUPYTER_PATH=/tmp/k/share/jupyter MLCOURSE_QUICK=1 /usr/bin/python3 live_notebook_check.py notebooks/00-setup.ipynb shot.png
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from tornado.httpclient import AsyncHTTPClient
from tornado.websocket import websocket_connect

RUN_ALL = """
require(['base/js/namespace'], function (Jupyter) {
  var timer = setInterval(function () {
    var nb = Jupyter.notebook;
    if (nb && nb.kernel && nb.kernel.is_connected() && nb.kernel.info_reply && nb.kernel.info_reply.status === 'ok') {
      clearInterval(timer);
      window.__started = true;
      nb.execute_all_cells();
    }
  }, 500);
});
"""

STATE = """JSON.stringify({
  kernel: (window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel) ? Jupyter.notebook.kernel.name : null,
  started: !!window.__started,
  prompts: Array.from(document.querySelectorAll('.input_prompt')).map(e => e.innerText.trim()),
  plots: document.querySelectorAll('.js-plotly-plot .main-svg').length,
  errors: Array.from(document.querySelectorAll('.output_error')).map(e => e.innerText.slice(0, 300))})"""


async def drive(url, png, timeout):
    http = AsyncHTTPClient()
    for _ in range(60):
        try:
            pages = json.loads((await http.fetch("http://127.0.0.1:9333/json")).body)
            break
        except Exception:
            await asyncio.sleep(0.5)
    page = next(p for p in pages if p["type"] == "page")
    ws = await websocket_connect(page["webSocketDebuggerUrl"], max_message_size=256 * 1024 * 1024)
    counter = 0

    async def call(method, **params):
        nonlocal counter
        counter += 1
        ws.write_message(json.dumps({"id": counter, "method": method, "params": params}))
        while True:
            msg = json.loads(await ws.read_message())
            if msg.get("id") == counter:
                return msg.get("result", msg)

    await call("Page.navigate", url=url)
    state, deadline = {}, time.time() + timeout
    while time.time() < deadline:
        await asyncio.sleep(2)
        state = json.loads((await call("Runtime.evaluate", expression=STATE, returnByValue=True))["result"]["value"])
        done = state["started"] and state["prompts"] and not any(p in ("In\xa0[*]:", "In\xa0[\xa0]:") for p in state["prompts"])
        if done:
            break
    await call("Emulation.setDeviceMetricsOverride", width=1200, height=5200, deviceScaleFactor=1, mobile=False)
    await asyncio.sleep(2)
    open(png, "wb").write(base64.b64decode((await call("Page.captureScreenshot", format="png"))["data"]))
    return state


def main():
    notebook, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="mlcourse-live-")
    os.makedirs(os.path.join(work, "config", "custom"))
    with open(os.path.join(work, "config", "custom", "custom.js"), "w") as f:
        f.write(RUN_ALL)
    shutil.copy(notebook, work)   # the server autosaves: never let it touch the repository's copy
    env = dict(os.environ, JUPYTER_CONFIG_DIR=os.path.join(work, "config"))
    server = subprocess.Popen([sys.executable, "-m", "notebook", "--no-browser", "--port", "8899", "--ip", "127.0.0.1",
                               "--NotebookApp.token=", "--NotebookApp.password=", "--allow-root", f"--notebook-dir={work}"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = subprocess.Popen(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                "--remote-debugging-port=9333", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)
        url = f"http://127.0.0.1:8899/notebooks/{os.path.basename(notebook)}"
        state = asyncio.run(drive(url, png, 240))
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(state, indent=1, ensure_ascii=False))
    ok = state.get("started") and not state.get("errors") and state.get("plots", 0) > 0
    print(("PASS" if ok else "FAIL") + f": screenshot in {png}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
