"""The MLCourse C# kernel under requests a well-behaved client never sends, through jupyter_client.

Usage: python3 robustness_test.py KERNEL_NAME   (the kernelspec must be on JUPYTER_PATH)
Checks that console input cannot deadlock the kernel (Console.Read, Console.In.ReadToEnd, an interrupt while
waiting for input), and fuzzes the shell, control and stdin channels with malformed and out-of-order messages
(wrong field types, missing fields, unknown msg_types, content that is not an object, a huge payload): every
request must get its reply and an idle status, and the kernel must stay up. Prints one line per check and exits
non-zero on the first failure.
"""
import json
import queue
import random
import signal
import sys
import time

from jupyter_client.manager import KernelManager

KERNEL = sys.argv[1]
TIMEOUT = 60


def check(condition, what, detail=""):
    if not condition:
        print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        sys.exit(1)
    print(f"ok   {what}", flush=True)


def wait_idle(kc, msg_id, timeout):
    """The iopub messages with this parent up to its idle status, or None when idle never came."""
    deadline = time.time() + timeout
    outputs = []
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
    return None


def wait_reply(get, msg_id, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    return None


def streams(outputs):
    return "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")


def answered(kc, msg_id, get, what, expect_type=None, timeout=20):
    reply = wait_reply(get, msg_id, timeout)
    check(reply is not None, f"{what}: a reply", "no reply within %d s" % timeout)
    if expect_type:
        check(reply["msg_type"] == expect_type, f"{what}: the reply is {expect_type}", reply["msg_type"])
    check(wait_idle(kc, msg_id, timeout) is not None, f"{what}: idle after it")
    return reply


def alive(kc, what):
    msg_id = kc.execute('Console.WriteLine("alive");')
    outputs = wait_idle(kc, msg_id, 30)
    reply = wait_reply(kc.get_shell_msg, msg_id, 5)
    check(outputs is not None and reply is not None and reply["content"]["status"] == "ok" and "alive" in streams(outputs),
          f"the kernel still runs cells after {what}")


def console_input(km, kc):
    msg_id = kc.execute('var c = Console.Read(); var d = Console.Read(); Console.WriteLine($"read {(char)c}{(char)d}");', allow_stdin=True)
    request = wait_reply(kc.get_stdin_msg, msg_id, TIMEOUT)
    check(request is not None and request["msg_type"] == "input_request", "Console.Read sends an input_request")
    kc.input("Zy")
    outputs = wait_idle(kc, msg_id, 20)
    check(outputs is not None and "read Zy" in streams(outputs), "Console.Read returns the answer's characters (no deadlock)",
          "the kernel did not go idle" if outputs is None else streams(outputs))
    alive(kc, "Console.Read")

    msg_id = kc.execute('var all = Console.In.ReadToEnd(); Console.WriteLine($"all: {all}");', allow_stdin=True)
    request = wait_reply(kc.get_stdin_msg, msg_id, TIMEOUT)
    check(request is not None, "Console.In.ReadToEnd sends an input_request")
    kc.input("every word")
    outputs = wait_idle(kc, msg_id, 20)
    check(outputs is not None and "all: every word" in streams(outputs), "Console.In.ReadToEnd returns the answer",
          "the kernel did not go idle" if outputs is None else streams(outputs))

    msg_id = kc.execute('var never = Console.Read();', allow_stdin=True)
    check(wait_reply(kc.get_stdin_msg, msg_id, TIMEOUT) is not None, "a second Console.Read asks again")
    km.interrupt_kernel()
    outputs = wait_idle(kc, msg_id, 20)
    reply = wait_reply(kc.get_shell_msg, msg_id, 5)
    check(outputs is not None and reply is not None and reply["content"]["status"] == "error",
          "an interrupt stops a cell that waits for input", str(reply and reply["content"]))
    alive(kc, "an interrupted input")


def fuzz(kc):
    session = kc.session
    shell = kc.shell_channel.socket
    control = kc.control_channel.socket

    def send_raw(socket, msg_type, content):
        """Signs and sends any JSON as the content (jupyter_client's Session.send accepts only a dict)."""
        header = session.msg_header(msg_type)
        parts = [json.dumps(p, default=str).encode() for p in (header, {}, {}, content)]
        socket.send_multipart([b"<IDS|MSG>", session.sign(parts)] + parts)
        return header["msg_id"]

    def send(socket, msg_type, content, what, get, expect_type):
        return answered(kc, send_raw(socket, msg_type, content), get, what, expect_type)

    execute = {"code": "1 + 1", "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}
    cases = [
        ("execute_request", dict(execute, silent=0), "execute_request with silent: 0"),
        ("execute_request", dict(execute, code=42), "execute_request with code: 42"),
        ("execute_request", dict(execute, store_history="yes", allow_stdin=[1], stop_on_error=None), "execute_request with every flag of a wrong type"),
        ("execute_request", {}, "execute_request with no fields"),
        ("execute_request", [1, 2, 3], "execute_request whose content is a list"),
        ("execute_request", dict(execute, code="int x = ;"), "execute_request that does not compile"),
        ("complete_request", {"code": "Math.", "cursor_pos": "five"}, "complete_request with cursor_pos: \"five\""),
        ("complete_request", {"cursor_pos": 10 ** 12}, "complete_request with no code and a huge cursor_pos"),
        ("inspect_request", {"code": "Math.Sqrt(2)", "cursor_pos": -7, "detail_level": "x"}, "inspect_request with cursor_pos: -7"),
        ("inspect_request", {"code": None}, "inspect_request with code: null"),
        ("is_complete_request", {"code": {"nested": True}}, "is_complete_request with code an object"),
        ("history_request", {"hist_access_type": 3}, "history_request with wrong types"),
        ("kernel_info_request", {"junk": "x"}, "kernel_info_request with junk"),
        ("comm_info_request", {"target_name": 7}, "comm_info_request with target_name: 7"),
        ("frobnicate_request", {"what": "?"}, "an unknown frobnicate_request"),
    ]
    for msg_type, content, what in cases:
        send(shell, msg_type, content, what, kc.get_shell_msg, msg_type.replace("_request", "_reply"))

    huge = dict(execute, code='var huge = "ok";\nhuge', padding="x" * (48 * 1024 * 1024))
    reply = send(shell, "execute_request", huge, "an execute_request of 48 MB", kc.get_shell_msg, "execute_reply")
    check(reply["content"]["status"] == "ok", "the huge request runs", str(reply["content"])[:300])

    # Messages that are not requests, and out of order: replies sent to the kernel, an input_reply nobody asked for.
    for msg_type, content in [("execute_reply", {"status": "ok"}), ("comm_msg", {"comm_id": 5, "data": []}),
                              ("comm_close", []), ("something_else", {"a": 1})]:
        check(wait_idle(kc, send_raw(shell, msg_type, content), 20) is not None, f"a stray {msg_type} on shell: busy then idle")
    send_raw(kc.stdin_channel.socket, "input_reply", {"value": 5})
    send_raw(kc.stdin_channel.socket, "input_reply", "not an object")

    for msg_type, content, what in [("kernel_info_request", [], "control kernel_info_request whose content is a list"),
                                    ("interrupt_request", {"junk": 1}, "control interrupt_request with junk"),
                                    ("shutdown_request", {"restart": "maybe"}, "control shutdown_request with restart: \"maybe\""),
                                    ("frobnicate_request", {}, "an unknown control request")]:
        send(control, msg_type, content, what, kc.get_control_msg, msg_type.replace("_request", "_reply"))

    rng = random.Random(7)
    values = [None, 0, -1, 10 ** 15, 1.5, "", "x" * 1000, [], {}, True, [None], {"a": {"b": []}}]
    types = ["execute_request", "complete_request", "inspect_request", "is_complete_request", "history_request", "kernel_info_request"]
    fields = ["code", "silent", "store_history", "allow_stdin", "stop_on_error", "cursor_pos", "detail_level", "user_expressions"]
    for n in range(40):
        msg_type = rng.choice(types)
        content = {field: rng.choice(values) for field in rng.sample(fields, rng.randint(0, len(fields)))}
        if msg_type == "execute_request" and isinstance(content.get("code"), str):
            content["code"] = "1"   # random text could be a valid endless program; the point is the fields' types
        send(shell, msg_type, content, f"random {msg_type} #{n} {str(content)[:80]}", kc.get_shell_msg,
             msg_type.replace("_request", "_reply"))
    alive(kc, "the fuzzing")
    deadline = time.time() + 10
    while not kc.hb_channel.is_beating() and time.time() < deadline:
        time.sleep(0.2)
    check(kc.hb_channel.is_beating(), "the heartbeat still echoes")


def main():
    signal.signal(signal.SIGINT, signal.default_int_handler)
    km = KernelManager(kernel_name=KERNEL)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        console_input(km, kc)
        fuzz(kc)
        check(km.is_alive(), "the kernel process is alive")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
    print("all robustness checks passed", flush=True)


if __name__ == "__main__":
    main()
