#!/usr/bin/env python3
"""Runs workbook notebooks in the real .NET Interactive C# kernel over the Jupyter protocol (nbclient), in quick mode,
and compares every chapter's outputs with the workbook's own engine, cell by cell.

    run_notebooks.py --out DIR [--jobs N] [--engine-cli PATH/MLCourse.Cli.dll] NOTEBOOK...

Exit code 0 when every notebook ran without an unexpected error cell and, when --engine-cli is given, every difference
between the two engines' text outputs is one the README's compatibility table lists (see NORMALISE and KNOWN below).
The kernel is `dotnet interactive jupyter` (the pinned local tool, .config/dotnet-tools.json, or a global install),
started from a kernelspec this script writes into a temporary JUPYTER_PATH, so a user's own kernelspecs do not matter.
"""
import argparse, concurrent.futures, json, os, re, subprocess, sys, tempfile, threading, time

KERNEL = "dotnet-interactive-ci"

# Outputs only .NET Interactive produces, by design (README, compatibility table): its package-restore report and
# script in the setup cell, the extension loader's notes, and the compiler warnings it prints (the workbook's engine
# shows errors only; an info such as CS9236 likewise): CS1701 on every cell that touches TorchSharp (built against .NET 8's System.Runtime.Numerics,
# which the .NET SDK's builds never report), CS8632 where a cell uses nullable annotations (no nullable context there).
DNI_ONLY = [
    re.compile(r"^Loading extensions from `"),
    re.compile(r"Installed Packages"),
    re.compile(r"dotnet-interactive-this-cell"),
]
WARNING_LINE = re.compile(r"^\s*(\(\d+,\d+\): )?(warning|info) CS\d{4}: .*$", re.M)
# An output that reports measured times (a table with an "ms / …" column, a speed ratio) is compared by its text with
# every number masked: wall-clock figures differ between any two runs.
TIMED = re.compile(r"\bms\b|time ratio|speed-?up|wall time|elapsed", re.I)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMING = [
    re.compile(r"\[\d\d:\d\d(?::\d\d)?<\d\d:\d\d(?::\d\d)?(?:, [^\]]*)?\]"),    # progress bar elapsed<left, rate
    re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|min|it/s|steps/s|images/s|samples/s)\b"),
    re.compile(r"\b\d+(?:\.\d+)? (?:seconds|second|minutes)\b"),
]


def kernelspec_dir():
    root = tempfile.mkdtemp(prefix="dni-kernels-")
    folder = os.path.join(root, "kernels", KERNEL)
    os.makedirs(folder)
    spec = {"argv": ["dotnet", "interactive", "jupyter", "--default-kernel", "csharp", "{connection_file}",
                     "--http-port-range", "2048-3000"],
            "display_name": ".NET (C#) for the workbook's CI", "language": "C#"}
    with open(os.path.join(folder, "kernel.json"), "w") as f:
        json.dump(spec, f)
    return root


def execute_one(path, out_dir, cell_timeout):
    """Runs one notebook in its own process (nbclient), writes the executed copy; returns (path, seconds, problems,
    error cells as (index, message))."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=cell_timeout, startup_timeout=300, allow_errors=True,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    start = time.time()
    try:
        client.execute()
    except Exception as e:  # a dead kernel, a timeout: the notebook fails, the batch goes on
        problems = [f"execution stopped: {type(e).__name__}: {str(e).strip()[:500]}"]
    else:
        problems = []
    nbformat.write(nb, os.path.join(out_dir, os.path.basename(path)))
    return path, time.time() - start, problems, error_cells(nb)


def error_cells(nb):
    """(index, 'Name: message') of every cell with an error output."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, f"{output.get('ename', '')}: {output.get('evalue', '')}".strip()))
                break
    return found


def is_exercise(path):
    return os.path.basename(os.path.dirname(os.path.abspath(path))) == "exercises"


def unexpected_errors(path, errors, engine_copy):
    """Error cells a notebook should not have. An exercise as released fails where a stub throws
    NotImplementedException and where later cells use what the student has not written yet; the workbook's engine
    is the oracle for the latter: the same cell must fail there too."""
    if not is_exercise(path):
        return errors
    import nbformat
    engine_errors = {i for i, _ in error_cells(nbformat.read(engine_copy, as_version=4))} if os.path.exists(engine_copy) else set()
    return [(i, m) for i, m in errors if "NotImplementedException" not in m and i not in engine_errors]


# The workbook's engine reports a `#r "nuget: …"` restore as a stdout line per package; .NET Interactive shows an
# "Installed Packages" display instead (left out above). Both say the same; the line is left out of the comparison.
RESTORE_LINE = re.compile(r"^Installed package \S+ version \S+$", re.M)


def normalise_text(text):
    text = WARNING_LINE.sub("", text)
    text = RESTORE_LINE.sub("", text)
    for pattern in TIMING:
        text = pattern.sub("<time>", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def cell_outputs(cell):
    """A code cell's outputs as comparable items: ('text', s) for streams and text results, ('chart',) and ('table',)."""
    items, stream = [], []

    def flush():
        if stream:
            text = normalise_text("".join(stream))
            if text:
                items.append(("text", text))
            stream.clear()

    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout" or normalise_text(output.get("text", "")):
                stream.append(output.get("text", ""))
            continue
        flush()
        if kind == "error":
            items.append(("error", output.get("ename", "")))
            continue
        data = output.get("data", {})
        html = data.get("text/html", "")
        html = "".join(html) if isinstance(html, list) else html
        plain = data.get("text/plain", "")
        plain = "".join(plain) if isinstance(plain, list) else plain
        if any(p.search(html) or p.search(plain) for p in DNI_ONLY):
            continue
        if "Plotly.newPlot" in html:
            # A chart is Plotly's MIME bundle in both engines: the figure JSON beside the HTML fallback.
            items.append(("chart",) if "application/vnd.plotly.v1+json" in data else ("chart without application/vnd.plotly.v1+json",))
        elif "<progress" in html:
            items.append(("progress",))  # .NET Interactive sends a display's preferred MIME type only (HTML here)
        elif "<table" in html:
            items.append(("table",))
        elif plain:
            items.append(("text", normalise_text(plain)))
        elif html:
            items.append(("html",))
    flush()
    return items


def numbers_close(a, b, rel, abs_):
    """Same text with every number within the tolerance (both engines run the same seeds; threads may reorder sums)."""
    na, nb_ = NUMBER.findall(a), NUMBER.findall(b)
    if NUMBER.sub("#", a) != NUMBER.sub("#", b) or len(na) != len(nb_):
        return False
    return all(abs(float(x) - float(y)) <= max(abs_, rel * max(abs(float(x)), abs(float(y)))) for x, y in zip(na, nb_))


def masked(text):
    """A timed output with every number masked and runs of spaces collapsed: a table's column of times is padded to
    the width of its numbers, so 234 ms in one engine and 1035 ms in the other move the columns after it."""
    return re.sub(r"[ \t]+", " ", NUMBER.sub("#", text))


def compare(ours_path, theirs_path, rel, abs_):
    import nbformat
    ours, theirs = nbformat.read(ours_path, as_version=4), nbformat.read(theirs_path, as_version=4)
    differences = []
    code = [(i, a, b) for i, (a, b) in enumerate(zip(ours.cells, theirs.cells)) if a.cell_type == "code"]
    for index, a, b in code[1:]:  # the setup cell differs by design (package restore reports)
        oa, ob = cell_outputs(a), cell_outputs(b)
        if len(oa) != len(ob):
            differences.append(f"cell {index}: {len(oa)} output(s) in the workbook's engine, {len(ob)} in .NET Interactive:"
                               f"\n    ours:   {oa!r:.400}\n    theirs: {ob!r:.400}")
            continue
        for x, y in zip(oa, ob):
            same = x == y or (x[0] == y[0] and len(x) == 2 and (
                numbers_close(x[1], y[1], rel, abs_)
                or (TIMED.search(x[1]) and masked(x[1]) == masked(y[1]))))
            if not same:
                differences.append(f"cell {index}:\n    ours:   {x!r:.400}\n    theirs: {y!r:.400}")
    return differences


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cell-timeout", type=int, default=600)
    parser.add_argument("--engine-cli", help="MLCourse.Cli.dll: also run the chapters in the workbook's engine and compare")
    parser.add_argument("--rel", type=float, default=0.02, help="relative tolerance for numbers in the comparison")
    parser.add_argument("--abs", type=float, default=0.02, help="absolute tolerance for numbers in the comparison")
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    if args.single:  # the child process: one notebook
        path, seconds, problems, errors = execute_one(args.notebooks[0], args.out, args.cell_timeout)
        print(json.dumps({"path": path, "seconds": seconds, "problems": problems, "errors": errors}))
        return 0

    # Both engines get the same thread count (as the tests' own processes do), so their numbers can agree exactly.
    env = dict(os.environ, MLCOURSE_QUICK="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               JUPYTER_PATH=kernelspec_dir() + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    dni_out, ours_out = os.path.join(args.out, "dotnet-interactive"), os.path.join(args.out, "workbook-engine")
    os.makedirs(dni_out, exist_ok=True)

    spacing, last_start = threading.Lock(), [0.0]

    def child(path, attempt=1):
        with spacing:  # kernels started at the same moment can race for a port of --http-port-range: 5 s apart
            time.sleep(max(0.0, last_start[0] + 5 - time.time()))
            last_start[0] = time.time()
        proc = subprocess.run([sys.executable, __file__, "--single", "--out", dni_out, "--cell-timeout", str(args.cell_timeout), path],
                              env=env, capture_output=True, text=True)
        last = proc.stdout.strip().splitlines()[-1:] or [""]
        try:
            result = json.loads(last[0])
        except json.JSONDecodeError:
            result = {"path": path, "seconds": 0, "errors": [],
                      "problems": [f"the runner process failed ({proc.returncode}): {proc.stderr.strip()[-800:]}"]}
        # A kernel that dies while starting (two kernels racing for the same port of --http-port-range, seen in CI
        # before the starts were spaced) gets one more try; a notebook that kills its kernel later fails either way.
        if attempt == 1 and any("Kernel died" in p for p in result["problems"]):
            print(f"  {os.path.relpath(path)}: the kernel died ({result['problems'][0][:120]}); running it again", flush=True)
            return child(path, attempt=2)
        return result

    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(child, args.notebooks))
    dni_seconds = time.time() - start

    # The workbook's engine on the chapters (the comparison) and the exercises (the oracle for their error cells).
    compared = [p for p in args.notebooks if os.path.basename(os.path.dirname(os.path.abspath(p))) == "notebooks"]
    oracle = [p for p in args.notebooks if is_exercise(p)]
    engine_failed = False
    if args.engine_cli and (compared or oracle):
        proc = subprocess.run(["dotnet", args.engine_cli, "run", "--quick", "--continue-on-error", "--output", ours_out] + compared + oracle,
                              env=env, capture_output=True, text=True)
        failed_chapters = [p for p in compared if not os.path.exists(os.path.join(ours_out, os.path.basename(p)))]
        if failed_chapters:
            print("The workbook's engine did not run every chapter:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
            engine_failed = True

    failures = 0
    for result in results:
        name = os.path.relpath(result["path"])
        copy = os.path.join(ours_out, os.path.basename(result["path"]))
        problems = result["problems"] + [f"cell {i}: {m[:600]}" for i, m in unexpected_errors(result["path"], result["errors"], copy)]
        if problems:
            failures += 1
            print(f"✗ {name} in .NET Interactive ({result['seconds']:.0f} s):")
            for problem in problems:
                print(f"    {problem}")
        else:
            expected = len(result["errors"])
            print(f"✓ {name} in .NET Interactive ({result['seconds']:.0f} s)" + (f", {expected} error cell(s) of the released exercise" if expected else ""))
    print(f"{len(args.notebooks) - failures} of {len(args.notebooks)} notebook(s) ran in .NET Interactive without an unexpected "
          f"error cell, in {dni_seconds:.0f} s.")

    differing = 1 if engine_failed else 0
    if args.engine_cli and compared:
        for path in compared:
            name = os.path.basename(path)
            ours, theirs = os.path.join(ours_out, name), os.path.join(dni_out, name)
            if not (os.path.exists(ours) and os.path.exists(theirs)):
                print(f"✗ {name}: no executed copy to compare")
                differing += 1
                continue
            differences = compare(ours, theirs, args.rel, args.abs)
            if differences:
                differing += 1
                print(f"✗ {name}: {len(differences)} cell(s) differ between the engines")
                for d in differences:
                    print("  " + d)
            else:
                print(f"✓ {name}: same outputs in both engines")
        print(f"{len(compared) - differing} of {len(compared)} chapter(s) gave the same outputs in both engines "
              f"(numbers within {args.rel:.0%} or {args.abs}, timings masked).")
    sys.stdout.flush()
    return 1 if failures or differing else 0


if __name__ == "__main__":
    sys.exit(main())
