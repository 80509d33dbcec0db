"""Drives the MLCourse C# kernel through jupyter_client, the reference Jupyter client library.

Usage: python3 protocol_test.py KERNEL_NAME   (the kernelspec must be on JUPYTER_PATH)
Prints one line per check and exits non-zero on the first failure.
"""
import os
import queue
import signal
import subprocess
import sys
import textwrap
import time

from jupyter_client.manager import KernelManager
from jupyter_client.session import Session

KERNEL = sys.argv[1]
TIMEOUT = 60


def check(condition, what, detail=""):
    if not condition:
        print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


def run(kc, code, timeout=TIMEOUT, allow_stdin=True):
    """Executes code; returns (reply content, iopub messages with this parent up to idle)."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    return collect(kc, msg_id, timeout)


def collect(kc, msg_id, timeout=TIMEOUT):
    deadline = time.time() + timeout
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
    return reply["content"], outputs


def of_type(outputs, kind):
    return [m["content"] for m in outputs if m["msg_type"] == kind]


def main():
    # A process started in the background by a non-interactive shell (as CI may start the tests) inherits SIGINT as
    # ignored, and an ignored signal stays ignored across exec, so the kernel could never see the SIGINT checked below.
    # A terminal client runs in the foreground; give the kernel the same start by handling SIGINT here (handlers, unlike
    # "ignore", are reset to the default in a child).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        check(True, "kernel started and answered kernel_info (wait_for_ready)")
        deadline = time.time() + 10
        while not kc.hb_channel.is_beating() and time.time() < deadline:
            time.sleep(0.2)
        check(kc.hb_channel.is_beating(), "the heartbeat echoes")

        kc.kernel_info()
        info = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        lang = info["language_info"]
        check(info["protocol_version"] == "5.3" and lang["name"] == "C#" and lang["mimetype"] == "text/x-csharp"
              and lang["file_extension"] == ".cs" and lang["pygments_lexer"] == "csharp",
              "kernel_info_reply: protocol 5.3, language_info for C#", str(info))

        reply, out = run(kc, 'var x = 40 + 2;\nConsole.WriteLine("hello");\ndisplay(HTML("<b>shown</b>"));\nx')
        kinds = [m["msg_type"] for m in out]
        check(reply["status"] == "ok" and reply["execution_count"] == 1, "execute_reply ok with execution_count 1", str(reply))
        check(kinds[0] == "status" and kinds[1] == "execute_input" and kinds[-1] == "status", "busy, execute_input ... idle", str(kinds))
        check(any(s["name"] == "stdout" and "hello" in s["text"] for s in of_type(out, "stream")), "stdout as a stream message", str(kinds))
        displays = of_type(out, "display_data")
        check(len(displays) == 1 and displays[0]["data"]["text/html"] == "<b>shown</b>" and displays[0]["transient"].get("display_id"),
              "display(...) as display_data with text/html and a transient display_id", str(displays))
        results = of_type(out, "execute_result")
        check(len(results) == 1 and results[0]["data"]["text/plain"] == "42" and results[0]["execution_count"] == 1,
              "trailing expression as execute_result", str(results))

        # One execution counter (the session's): silent and store_history=False executions do not increment it and
        # report its current value; the next stored execution gets the next number everywhere (input, result, reply, label).
        reply, out = collect(kc, kc.execute("2", silent=True))
        check(reply["execution_count"] == 1 and not of_type(out, "execute_input") and not of_type(out, "execute_result"),
              "a silent execution reports the current count and publishes nothing", str(reply))
        reply, out = collect(kc, kc.execute("3", store_history=False))
        check(reply["execution_count"] == 1 and [m["execution_count"] for m in of_type(out, "execute_input")] == [1],
              "store_history=False does not increment the count", str(reply))
        reply, out = collect(kc, kc.execute('throw new Exception("silent")', silent=True))
        check(reply["status"] == "error" and reply["execution_count"] == 1, "a silent error keeps the count", str(reply))
        reply, out = run(kc, "int wrong = \"text\";")
        counts = [m["execution_count"] for m in of_type(out, "execute_input")]
        tb = "".join(of_type(out, "error")[0]["traceback"]) if of_type(out, "error") else ""
        check(reply["execution_count"] == 2 and counts == [2] and "cell 2," in tb,
              "the next stored execution is number 2 in execute_input, reply and the error's cell label", f"{reply} {counts} {tb[:200]}")
        reply, out = run(kc, "40 + 3")
        check(reply["execution_count"] == 3 and [r["execution_count"] for r in of_type(out, "execute_result")] == [3],
              "execute_result carries the same count as its reply", str(reply))

        # Rich outputs: a DataFrame as an HTML table; Plotly charts as Plotly's MIME bundle, plotly.js embedded once per session.
        reply, out = run(kc, 'using Microsoft.Data.Analysis;\n'
                             'new DataFrame(new PrimitiveDataFrameColumn<int>("n", new[] { 1, 2 }), new StringDataFrameColumn("s", new[] { "a", "b" }))')
        html = of_type(out, "execute_result")[0]["data"].get("text/html", "")
        check("<table" in html and "<th>n</th>" in html and "<td>b</td>" in html, "a DataFrame shows as an HTML table", html[:300])
        charts = []
        for _ in range(2):
            reply, out = run(kc, 'MLCourse.Plots.Charts.Line(new double[] { 0, 1, 2 }, new double[] { 1, 0, 1 }, "y")')
            charts.append(of_type(out, "execute_result")[0]["data"])
        check(all(isinstance(c.get("application/vnd.plotly.v1+json"), dict) and c["application/vnd.plotly.v1+json"]["data"][0]["y"] == [1, 0, 1]
                  and "Plotly.newPlot" in c["text/html"] for c in charts),
              "a Plotly.NET chart is an execute_result with Plotly's figure JSON and a text/html fallback that draws it")
        check("plotly.js v2.28.0" in charts[0]["text/html"] and "plotly.js v2.28.0" not in charts[1]["text/html"],
              "plotly.js is embedded in the session's first chart only")

        reply, out = run(kc, 'var h = display("first");\nh.Update("second");')
        updates = of_type(out, "update_display_data")
        first = of_type(out, "display_data")
        check(len(updates) == 1 and updates[0]["transient"]["display_id"] == first[0]["transient"]["display_id"]
              and updates[0]["data"]["text/plain"] == "second", "DisplayHandle.Update as update_display_data", str(out))

        reply, out = run(kc, 'throw new InvalidOperationException("boom");')
        errors = of_type(out, "error")
        check(reply["status"] == "error" and reply["ename"] == "InvalidOperationException" and reply["evalue"] == "boom"
              and len(errors) == 1 and errors[0]["traceback"], "a throwing cell gives an error reply and an error message", str(reply))
        reply, out = run(kc, "int broken = ;")
        check(reply["status"] == "error" and reply["ename"] == "CompilationError", "a compile error gives an error reply", str(reply))
        reply, out = run(kc, "x + 1")
        check(reply["status"] == "ok" and of_type(out, "execute_result")[0]["data"]["text/plain"] == "43",
              "the kernel stays alive and keeps its state after errors", str(reply))

        for code, expected in [("for (int i = 0; i < 3; i++) {", "incomplete"), ("var y = x *", "incomplete"),
                               ("x + 1", "complete"), ('#!time\nConsole.WriteLine(x);', "complete")]:
            kc.is_complete(code)
            status = kc.get_shell_msg(timeout=TIMEOUT)["content"]["status"]
            check(status == expected, f"is_complete {code!r} -> {expected}", status)

        kc.complete("x.CompareT", 10)
        comp = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("CompareTo" in comp["matches"] and comp["cursor_start"] == 2 and comp["cursor_end"] == 10,
              "complete: members of a variable from an earlier cell", str(comp)[:300])
        kc.complete("Consol", 6)
        comp = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("Console" in comp["matches"] and comp["cursor_start"] == 0, "complete: names in scope", str(comp)[:300])
        kc.complete("Math.Sq", 7)
        comp = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check("Sqrt" in comp["matches"], "complete: static members of a type", str(comp)[:300])
        kc.inspect("Math.Sqrt(2)", 7)
        insp = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        check(insp["status"] == "ok" and insp["found"] and "Sqrt" in insp["data"]["text/plain"], "inspect: signature of the symbol", str(insp))
        kc.comm_info()
        check(kc.get_shell_msg(timeout=TIMEOUT)["content"]["comms"] == {}, "comm_info_request: no comms")

        # Console.ReadLine asks the client through the stdin channel when the client allows input...
        msg_id = kc.execute('Console.Write("Name: ");\nvar name = Console.ReadLine();\nConsole.WriteLine($"Hello {name}");', allow_stdin=True)
        request = kc.get_stdin_msg(timeout=TIMEOUT)
        check(request["msg_type"] == "input_request" and request["parent_header"]["msg_id"] == msg_id,
              "Console.ReadLine sends an input_request on stdin", str(request))
        kc.input("Ada")
        reply, out = collect(kc, msg_id)
        text = "".join(s["text"] for s in of_type(out, "stream"))
        check(reply["status"] == "ok" and "Name: " in text and "Hello Ada" in text, "the input_reply is what ReadLine returns", text)
        # ... and fails at once, instead of hanging, when it does not.
        reply, out = run(kc, "var nothing = Console.ReadLine();", timeout=15, allow_stdin=False)
        check(reply["status"] == "error" and "allow_stdin" in reply["evalue"], "ReadLine without allow_stdin fails clearly", str(reply))

        # A message signed with another key must be ignored (not executed, not answered), as must garbage.
        intruder = Session(key=b"not-the-connection-key", username="intruder")
        bad = intruder.msg("execute_request", {"code": "x = 999;", "silent": False, "store_history": True,
                                               "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        intruder.send(kc.shell_channel.socket, bad)
        kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"00", b"{not json", b"{}", b"{}", b"{}"])
        kc.shell_channel.socket.send_multipart([b"no delimiter at all"])
        try:
            stray = kc.get_shell_msg(timeout=1.5)
            check(False, "a wrongly signed message gets no reply", str(stray))
        except queue.Empty:
            pass
        reply, out = run(kc, "x")
        check(reply["status"] == "ok" and of_type(out, "execute_result")[0]["data"]["text/plain"] == "42",
              "a wrongly signed or malformed message is ignored and not executed; the kernel still answers")

        # Interrupt a library loop (a progress bar over a slow loop) through the control channel.
        loop = textwrap.dedent("""\
            int steps = 0;
            foreach (var i in MLCourse.Training.Progress.Range(2000, "training"))
            {
                steps++;
                System.Threading.Thread.Sleep(10);
            }
            """)
        def wait_for_progress(msg_id):
            deadline = time.time() + TIMEOUT
            while time.time() < deadline:
                msg = kc.get_iopub_msg(timeout=TIMEOUT)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "update_display_data":
                    return True
            return False

        msg_id = kc.execute(loop)
        check(wait_for_progress(msg_id), "a running progress bar updates its display in place")
        started = time.time()
        km.interrupt_kernel()
        reply, out = collect(kc, msg_id)
        check(reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt" and time.time() - started < 15,
              "interrupt_request stops the loop at its next step", f"{reply} after {time.time() - started:.1f} s")
        reply, out = run(kc, "steps > 0 && steps < 2000")
        check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "True", "the kernel runs cells after the interrupt")

        # SIGINT (what a terminal client sends) interrupts too. It is sent once the loop runs: a signal that comes
        # while no cell runs interrupts nothing, as in IPython.
        msg_id = kc.execute(loop)
        wait_for_progress(msg_id)
        km.signal_kernel(signal.SIGINT)
        reply, out = collect(kc, msg_id)
        check(reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", "SIGINT stops the loop at its next step", str(reply))

        # A tight loop of the cell's own stops too: the engine put an interrupt check into its body.
        msg_id = kc.execute('long spins = 0; Console.WriteLine("spinning"); while (true) { spins++; }')
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                break
        km.interrupt_kernel()
        reply, out = collect(kc, msg_id)
        check(reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", "interrupt stops a tight loop of the cell's own", str(reply))
        reply, out = run(kc, "spins > 0")
        check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "True", "the loop's variables survive the interrupt")

        # A blocking call with no loop to check in ignores interrupts: the kernel says so, and a restart stops it.
        msg_id = kc.execute("System.Threading.Thread.Sleep(600_000);")
        time.sleep(0.5)
        km.interrupt_kernel()
        note = ""
        deadline = time.time() + 15
        while "Restart the kernel" not in note and time.time() < deadline:
            msg = kc.get_iopub_msg(timeout=15)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                note += msg["content"]["text"]
        check("Restart the kernel" in note and "stderr" in str(msg["content"]), "an ignored interrupt is explained on stderr", note)
        old_pid = km.provisioner.process.pid
        started = time.time()
        km.restart_kernel(now=False)
        kc.wait_for_ready(timeout=TIMEOUT)
        check(not os.path.exists(f"/proc/{old_pid}") or "zombie" in open(f"/proc/{old_pid}/status").read().lower(),
              f"restart stops a kernel stuck in a blocking call ({time.time() - started:.1f} s)")
        reply, out = run(kc, "x")
        check(reply["status"] == "error" and reply["execution_count"] == 1, "after a restart the session starts afresh", str(reply))

        # Shutdown: the kernel answers and exits by itself.
        kc.shutdown()
        deadline = time.time() + 10
        while km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        check(not km.is_alive(), "shutdown_request: the kernel exits by itself")
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()

    # A client that dies without shutting the kernel down must not leave it running.
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""\
        import os
        from jupyter_client.manager import KernelManager
        km = KernelManager(kernel_name={KERNEL!r})
        km.start_kernel()
        kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout={TIMEOUT})
        print(km.provisioner.process.pid, flush=True)
        os._exit(0)
        """)], capture_output=True, text=True, timeout=TIMEOUT)
    pid = int(child.stdout.strip())
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.2)
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    alive = os.path.exists(f"/proc/{pid}") and "zombie" not in open(f"/proc/{pid}/status").read()
    check(not alive, "the kernel exits when the client that started it dies")
    print("all protocol checks passed", flush=True)


if __name__ == "__main__":
    main()
