#!/usr/bin/env bash
# Devcontainer post-create step (also run by CI on a plain Debian machine, as a test of it):
# build and pack the workbook, prepare the data sets, install the Jupyter kernel when the kernel verb exists.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\n== %s\n' "$*"; }

say "Building the workbook (Release); this also packs MLCourse into artifacts/packages for the notebooks' first cell"
dotnet build MLCourse.slnx -c Release -v quiet -nologo
ls artifacts/packages/MLCourse.*.nupkg

mlcourse() { dotnet lib/MLCourse.Cli/bin/Release/net10.0/MLCourse.Cli.dll "$@"; }
has_verb() { mlcourse --help | grep -qE "^  $1( |$)"; }

say "Data sets"
if has_verb data; then
  for set in covid-2021 covid-2022 mnist uci-sentences; do
    if ! mlcourse data verify "$set" >/dev/null 2>&1; then
      mlcourse data fetch "$set" || echo "  $set: could not be downloaded now; run 'mlcourse data fetch $set' later."
    fi
  done
  mlcourse data list
else
  echo "  (this build has no 'data' verb yet)"
fi

say ".NET Interactive (Polyglot Notebooks' kernel, .net-csharp)"
# The pinned tool (.config/dotnet-tools.json). Its installer needs the user's kernelspec folder to exist already.
if dotnet tool restore >/dev/null && command -v jupyter >/dev/null 2>&1; then
  mkdir -p "${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}/kernels"
  dotnet interactive jupyter install 2>&1 | grep -E "Installed|rror" || true
else
  echo "  skipped: needs Jupyter (python3-jupyter-client) and the .NET Interactive tool (dotnet tool restore)."
fi

say "The workbook's own Jupyter kernel"
if has_verb kernel && command -v jupyter >/dev/null 2>&1; then
  # The kernel runs from a ReadyToRun publish (Roslyn and the engine precompiled): a fresh kernel's first cells
  # compile about twice as fast as from the plain build (docs/performance.md). Re-run this script after pulling.
  rid="$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')"
  # If the publish fails (a full disk, an unusual platform), the kernel runs from the plain build instead.
  if dotnet publish lib/MLCourse.Cli -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
       -o artifacts/kernel -v quiet -nologo > artifacts/kernel-publish.log 2>&1; then
    dotnet artifacts/kernel/MLCourse.Cli.dll kernel install --user
  else
    echo "  The ReadyToRun publish failed (see artifacts/kernel-publish.log; the last lines follow)."
    grep -E "error" artifacts/kernel-publish.log | sed -E 's/ \[[^]]*\]$//' | sort -u | tail -n 5 | sed 's/^/    /'
    echo "  Installing the kernel from the plain build; it works the same, its first cells compile more slowly."
    mlcourse kernel install --user
  fi
else
  echo "  skipped: needs the 'kernel' verb and Jupyter (python3-jupyter-client)."
fi

say "Smoke test: chapter 00 in quick mode"
mlcourse run notebooks/00-setup.ipynb --quick
echo
echo "Ready. Open notebooks/00-setup.ipynb in VS Code and pick the workbook's C# kernel."
