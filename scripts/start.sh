#!/usr/bin/env bash
# One command to set everything up and start JupyterLab on the course, on one machine.
#
#   bash scripts/start.sh               trainee start: lessons, drills and assignments only
#   bash scripts/start.sh --instructor  instructor start: the course folder with formgrader and all
#
# Both release the assignments into the course's own nbgrader exchange (./exchange), so the
# trainee's Nbgrader > Assignment List fetches and submits, and the instructor's
# `nbgrader collect ASSIGNMENT` + `kefu grade ASSIGNMENT` grade the submissions.
# The trainee start serves ./workspace (its own copy of course/, fetched assignments in
# workspace/kefu-lab, reached from the lessons' links through workspace/release), with nbgrader's
# instructor tools off and errors shown as short Chinese messages; JupyterLab is in Simplified
# Chinese for both (hub/jupyter/common). Prints the URL (with token), so it works headless.
set -euo pipefail
cd "$(dirname "$0")/.."
ROLE=trainee
case "${1:-}" in
  "") ;;
  --instructor) ROLE=instructor ;;
  -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "start.sh: unknown option '$1' (use --instructor, or no option for the trainee start)" >&2; exit 2 ;;
esac

# KEFU_SKIP_SETUP=1: the venv is known to be installed (the tests' scratch copies share the repo's)
[ "${KEFU_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
PORT=${KEFU_PORT:-8888}
COURSE=$PWD
export KEFU_EXCHANGE_ROOT="${KEFU_EXCHANGE_ROOT:-$COURSE/exchange}"
mkdir -p "$KEFU_EXCHANGE_ROOT"
.venv/bin/python scripts/local_exchange.py "$KEFU_EXCHANGE_ROOT"

# Role settings are the hub's (hub/jupyter/<role>), except that the local instructor also runs
# the formgrader, which the hub serves as a separate service: common settings only.
CONFIG="$COURSE/hub/jupyter/common"
if [ "$ROLE" = trainee ]; then
  CONFIG="$COURSE/hub/jupyter/trainee:$CONFIG"
  SERVE="$COURSE/workspace"
  # the trainee's copy of the lessons (new ones are added, their own copies are never replaced)
  mkdir -p "$SERVE/course" "$SERVE/kefu-lab"
  for lesson in course/*; do
    [ -e "$SERVE/course/${lesson##*/}" ] || cp -R "$lesson" "$SERVE/course/"
  done
  rm -rf "$SERVE/course/.ipynb_checkpoints"
  # fetched assignments land in kefu-lab/<assignment>; the lessons link to ../release/<assignment>
  [ -e "$SERVE/release" ] || ln -s kefu-lab "$SERVE/release"
  # kernels: a short Chinese message instead of a traceback (toolkit/trainee_errors.py)
  export PYTHONSTARTUP="$COURSE/hub/jupyter/trainee/kernel_startup.py"
else
  SERVE="$COURSE"
fi
export JUPYTER_CONFIG_PATH="$CONFIG${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"

EXTRA=()
# Containers and fresh cloud machines often log in as root; Jupyter refuses root unless told.
if [ "$(id -u)" = 0 ]; then EXTRA+=(--allow-root); fi
# nbgrader's Assignment List fetches into its server's working directory: start in the served folder.
cd "$SERVE"
echo "[start] $ROLE start: JupyterLab on http://127.0.0.1:$PORT/lab serving $SERVE (open the URL with the token printed below)"
exec "$COURSE/.venv/bin/jupyter" lab --no-browser --ip="${KEFU_IP:-127.0.0.1}" --port="$PORT" \
  --ServerApp.root_dir="$SERVE" --LabApp.default_url="/lab/tree/course/00_开始.ipynb" "${EXTRA[@]}"
