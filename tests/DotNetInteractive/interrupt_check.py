#!/usr/bin/env python3
"""Stop in Polyglot Notebooks stops a library loop in .NET Interactive. Polyglot Notebooks (VS Code) drives the kernel
over `dotnet interactive stdio` with JSON command envelopes; its Stop button sends a Cancel command. This script does
the same: it runs the setup cell, starts a cell that iterates Progress.Range (the loop the trainer's batches use),
sends Cancel, and checks that the cell fails as cancelled, that the loop has stopped (its counter no longer moves) and
that the kernel goes on serving. Exit code 0 on success. (Jupyter's interrupt_request is not turned into a
cancellation by .NET Interactive 1.0.712001 while a C# cell runs, and SIGINT ends that kernel: README.)"""
import json, os, queue, re, signal, subprocess, sys, threading, time

notebooks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notebooks")
# In a session of its own: `dotnet interactive` starts the kernel as a child of the dotnet muxer, and the whole group
# must go at the end (a kernel left behind would spin on a closed stdin).
kernel = subprocess.Popen(["dotnet", "interactive", "stdio", "--default-kernel", "csharp"], cwd=notebooks, start_new_session=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
events = queue.Queue()
threading.Thread(target=lambda: [events.put(line) for line in kernel.stdout], daemon=True).start()
tokens = iter(range(1, 1000))


def send(command_type, command):
    token = f"mlcourse-{next(tokens)}"
    kernel.stdin.write(json.dumps({"commandType": command_type, "command": command, "token": token}) + "\n")
    kernel.stdin.flush()
    return token


def wait(token, timeout):
    """Events of the command until it succeeds or fails: (final event type, texts of its values and errors)."""
    texts, deadline = [], time.time() + timeout
    while time.time() < deadline:
        try:
            envelope = json.loads(events.get(timeout=max(0.1, deadline - time.time())))
        except (queue.Empty, json.JSONDecodeError):
            continue
        event = envelope.get("event", {})
        if (envelope.get("command") or {}).get("token") != token:
            continue
        kind = envelope.get("eventType")
        for value in event.get("formattedValues", []):
            texts.append(value.get("value", ""))
        if kind == "CommandFailed":
            return kind, texts + [event.get("message", "")]
        if kind == "CommandSucceeded":
            return kind, texts
    raise SystemExit(f"no answer to {token} within {timeout} s")


def submit(code, timeout=300):
    return wait(send("SubmitCode", {"code": code, "targetKernelName": "csharp"}), timeout)


try:
    kind, texts = submit('#r "nuget: MLCourse, 0.1.0"\nusing MLCourse.Training;', timeout=600)
    assert kind == "CommandSucceeded", f"setup cell: {kind} {texts}"
    loop = send("SubmitCode", {"code": "long spins = 0;\nforeach (var i in Progress.Range(int.MaxValue, \"spinning\")) "
                                       "{ spins++; System.Threading.Thread.SpinWait(2000); }", "targetKernelName": "csharp"})
    time.sleep(10)  # compiled and spinning by now
    cancelled_at = time.time()
    send("Cancel", {})
    kind, texts = wait(loop, 120)
    assert kind == "CommandFailed", f"the interrupted cell did not fail: {kind}"
    took = time.time() - cancelled_at
    kind, first = submit('spins.ToString()')
    time.sleep(3)
    kind2, second = submit('spins.ToString()')
    assert kind == kind2 == "CommandSucceeded", f"the kernel did not go on after Stop: {kind} {kind2}"
    first, second = [(re.findall(r"\d+", " ".join(t)) or [""])[0] for t in (first, second)]
    assert first and first == second, f"the loop kept running after Stop: {first!r} then {second!r}"
    assert int(first) > 0, "the loop never started"
    print(f"Stop ended the library loop after {first} steps; the cell failed {took:.1f} s after Cancel; the kernel went on")
finally:
    try:
        os.killpg(kernel.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    kernel.wait()
