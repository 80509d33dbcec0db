#!/usr/bin/env bash
# The grading step of the GitHub Classroom workflow (autograding.yml, copied into a homework's template repository as
# .github/workflows/classroom.yml). It grades the student's notebook with the course's grader and hands the points to
# classroom-resources/autograding-grading-reporter: `result=<base64 JSON>` on $GITHUB_OUTPUT, one test per question.
# The student's feedback (Markdown) goes to the run's summary page ($GITHUB_STEP_SUMMARY).
#
#   bash .mlcourse/.github/classroom/grade.sh hw-mnist-mlp.ipynb
#
# Environment: HOMEWORK (default: the notebook's name), MLCOURSE (the command that runs the grader; default: the
# course checkout's build in .mlcourse), MLCOURSE_DATASETS (data sets to fetch first, space-separated),
# MLCOURSE_QUICK_GRADING=1 (quick mode), MLCOURSE_GRADE_ARGS (more options, e.g. "--timeout 120").
set -uo pipefail
notebook="${1:?usage: grade.sh NOTEBOOK.ipynb}"
homework="${HOMEWORK:-$(basename "$notebook" .ipynb)}"
mlcourse="${MLCOURSE:-dotnet .mlcourse/lib/MLCourse.Cli/bin/Release/net10.0/MLCourse.Cli.dll}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for set in ${MLCOURSE_DATASETS:-}; do
  $mlcourse data fetch "$set" || echo "grade.sh: could not fetch data set $set" >&2
done

args=(grade "$notebook" --homework "$homework" --json "$out/results.json" --classroom "$out/classroom.json")
if [ "${MLCOURSE_QUICK_GRADING:-0}" = 1 ]; then args+=(--quick); fi
# shellcheck disable=SC2086  # MLCOURSE and MLCOURSE_GRADE_ARGS are word lists on purpose
$mlcourse "${args[@]}" ${MLCOURSE_GRADE_ARGS:-}
code=$?

if [ ! -s "$out/classroom.json" ]; then
  # The grader did not even start (build or runtime missing): an error result, so the run is not reported as passed.
  printf '{"version":1,"status":"error","max_score":0,"tests":[{"name":"grading","status":"error","score":0,"message":"the grader did not run (exit code %s)"}]}\n' "$code" > "$out/classroom.json"
fi
echo "result=$(base64 -w0 < "$out/classroom.json")" >> "${GITHUB_OUTPUT:-/dev/stdout}"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$out/results.md" ]; then
  cat "$out/results.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit 0
