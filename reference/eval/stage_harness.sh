#!/usr/bin/env bash
# stage_harness.sh: packs lm-evaluation-harness and the pure-Python packages it needs that the device
# machine lacks (datasets, dill, multiprocess) into one tarball to unpack onto PYTHONPATH there.
# Each package is copied from a git checkout of its release tag and gets a minimal .dist-info
# (name and version only: lm_eval and datasets read their own and each other's versions through
# importlib.metadata), as `pip install` would leave in site-packages. All four are pure Python.
#
#   stage_harness.sh OUT.tar.xz LM_EVAL_GIT DATASETS_GIT DILL_GIT MULTIPROCESS_GIT
#
# LM_EVAL_GIT etc. are git repositories (clones of EleutherAI/lm-evaluation-harness,
# huggingface/datasets, uqfoundation/dill, uqfoundation/multiprocess); the tags used are below.
set -euo pipefail
out=$1 lmeval=$2 datasets=$3 dill=$4 mp=$5
LM_EVAL_TAG=v0.4.12 DATASETS_TAG=4.8.5 DILL_TAG=0.4.1 MP_TAG=0.70.19
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

dist_info() { # NAME VERSION
  mkdir -p "$stage/site/$1-$2.dist-info"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$stage/site/$1-$2.dist-info/METADATA"
  printf 'staged\n' >"$stage/site/$1-$2.dist-info/INSTALLER"
}
mkdir -p "$stage/site"
git -C "$lmeval" archive "$LM_EVAL_TAG" lm_eval | tar x -C "$stage/site"
dist_info lm_eval "${LM_EVAL_TAG#v}"
git -C "$datasets" archive "$DATASETS_TAG" src/datasets | tar x -C "$stage" && mv "$stage/src/datasets" "$stage/site/"
dist_info datasets "$DATASETS_TAG"
# dill and multiprocess import their version from __info__.py, which their setup.py generates
git -C "$dill" archive "$DILL_TAG" dill | tar x -C "$stage/site"
rm -rf "$stage/site/dill/tests"
printf '__version__ = "%s"\n__author__ = "Mike McKerns"\n__doc__ = "dill"\n__license__ = "BSD-3-Clause"\n' \
  "$DILL_TAG" >"$stage/site/dill/__info__.py"
dist_info dill "$DILL_TAG"
git -C "$mp" archive "$MP_TAG" py3.12/multiprocess | tar x -C "$stage"
mv "$stage/py3.12/multiprocess" "$stage/site/" && rm -rf "$stage/site/multiprocess/tests"
printf '__version__ = "%s"\n__author__ = "Mike McKerns"\n__doc__ = "multiprocess"\n__license__ = "BSD-3-Clause"\n' \
  "$MP_TAG" >"$stage/site/multiprocess/__info__.py"
dist_info multiprocess "$MP_TAG"
tar cJf "$out" -C "$stage/site" .
ls -la "$out"
