#!/usr/bin/env bash
# The steps of the capture workflow (.github/workflows/capture.yml), kept here so that the workflow
# and its test (tests/test_workflows.py) run the very same commands. Run from the repository root,
# with `clausewatch` on PATH:
#
#   capture_job.sh plan N                  print the shard list [1, ..., N] as JSON (N: 1 to 64)
#   capture_job.sh shard I/N OUT           capture shard I of N into archive/, then pack what changed
#                                          under archive/ into OUT/ (archive.tar + deleted, a NUL list)
#   capture_job.sh commit DIR...           unpack the shards' OUT folders, verify the archive, commit
#                                          (scripts/commit_capture.py) and push to the current branch;
#                                          a DIR without archive.tar stands for the OUT folders in it
#
# `shard` signs with the key in CLAUSEWATCH_SECRET_KEY (never printed), and records the held new
# text of the documents named in ACCEPT_CHANGE (space-separated keys). Every document is in exactly
# one shard (a stable hash of its key), so the shards' files never overlap and unpack in any order.
set -euo pipefail

die() { echo "capture_job: $*" >&2; exit 1; }

# Append to the job summary on GitHub Actions; a no-op elsewhere.
summary() { if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat >>"$GITHUB_STEP_SUMMARY"; else cat >/dev/null; fi; }

plan() {
  local count=$1
  if ! [[ "$count" =~ ^[1-9][0-9]*$ ]] || [ "$count" -gt 64 ]; then
    die "shard count must be 1 to 64, not '$count'"
  fi
  local list
  list=$(seq -s, 1 "$count")
  echo "[$list]"
}

shard() {
  local shard=$1 out=$2
  [ -n "${CLAUSEWATCH_SECRET_KEY:-}" ] || die "CLAUSEWATCH_SECRET_KEY is empty: set it as a secret of the" \
    "'capture' environment (a repository secret would bypass the environment's branch rule)"
  mkdir -p "$out"
  # ACCEPT_CHANGE (the workflow's accept_change input): documents whose held new text a maintainer
  # has read and vouches for, recorded by the shard that holds them.
  local keys=() accept=() key
  read -ra keys <<<"${ACCEPT_CHANGE:-}"
  for key in "${keys[@]}"; do
    [[ "$key" =~ ^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$ ]] \
      || die "accept_change: '$key' is not a document key such as acme/terms-of-service"
    accept+=(--accept-change-for "$key")
  done
  local report status=0
  report=$(mktemp)
  # Exit status 1 with the summary table printed means some documents failed: their failures are
  # logged in the archive like any check, so the job goes on. Without the table (bad content/,
  # wrong key, crash) nothing was captured and the job fails.
  clausewatch capture --shard "$shard" "${accept[@]}" >"$report" || status=$?
  cat "$report"
  # Reasons quote what servers answered: escaped, so they cannot add markup to the summary.
  { echo "### Capture, shard $shard"; echo; echo '<pre>'
    sed -e 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' "$report"; echo '</pre>'; echo; } | summary
  if [ "$status" -ne 0 ] && { [ "$status" -ne 1 ] || ! grep -q '^document  *outcome' "$report"; }; then
    die "clausewatch capture failed (exit status $status)"
  fi
  # Every document failed (the network, the runner's address blocked, a key that does not sign):
  # their checks are packed and committed below, but the run must show red, or nobody looks.
  local captured failed all_failed
  captured=$(awk 'found && $1 ~ /\// && ($2 == "new-version" || $2 == "unchanged") {n++} /^document  *outcome/ {found=1} END {print n+0}' "$report")
  failed=$(awk 'found && $1 ~ /\// && !($2 == "new-version" || $2 == "unchanged") {n++} /^document  *outcome/ {found=1} END {print n+0}' "$report")
  all_failed=false
  if [ "$captured" -eq 0 ] && [ "$failed" -gt 0 ]; then all_failed=true; fi
  # A run where some documents failed stays green: an annotation per failure makes them seen. Only
  # the key and outcome (our own words), never a reason quoting a server, go into the command.
  awk 'found && $1 ~ /^[a-z0-9-]+\/[a-z0-9-]+$/ && !($2 == "new-version" || $2 == "unchanged") && $2 ~ /^[a-z-]+$/ {
         print "::warning title=Capture failed::" $1 ": " $2 "; see the table above" }
       /^document  *outcome/ {found=1}' "$report"
  # What changed under archive/: new and modified files in a tar, deleted ones in a NUL list.
  git ls-files -z --deleted -- archive >"$out/deleted"
  git ls-files -z --modified --others --exclude-standard -- archive \
    | while IFS= read -r -d '' path; do if [ -e "$path" ]; then printf '%s\0' "$path"; fi; done \
    | tar --create --file "$out/archive.tar" --null --files-from=-
  echo "packed $(tar --list --file "$out/archive.tar" | wc -l) changed files into $out"
  if [ "$all_failed" = true ]; then
    echo "::error title=Every capture failed::all $failed documents of shard $shard failed; see the table above"
    die "every document of shard $shard failed"
  fi
  # The archive itself refused a write (a damaged check log, a full disk): not the service's doing,
  # and every later run would meet it too, so the run shows red (its other checks are packed above).
  local refused
  refused=$(awk 'found && $1 ~ /\// && $2 == "archive-error" {n++} /^document  *outcome/ {found=1} END {print n+0}' "$report")
  if [ "$refused" -gt 0 ]; then
    echo "::error title=Archive refused a write::$refused document(s) of shard $shard; \`clausewatch verify\` names the damage; see the table above"
    die "the archive refused a write for $refused document(s) of shard $shard"
  fi
}

commit() {
  [ $# -gt 0 ] || die "commit: name the shards' folders"
  # actions/download-artifact (v5 on) puts a lone artifact's files straight into its path and
  # several artifacts in a folder each: a folder without archive.tar stands for the shard folders
  # in it. With one shard, or one shard left after the others failed, the files are at the top.
  local dir inner shards=()
  for dir in "$@"; do
    if [ -f "$dir/archive.tar" ]; then
      shards+=("$dir")
      continue
    fi
    local before=${#shards[@]}
    for inner in "$dir"/*/; do
      if [ -f "$inner/archive.tar" ]; then shards+=("${inner%/}"); fi
    done
    [ "${#shards[@]}" -gt "$before" ] || die "$dir: no archive.tar, nor a folder in it with one"
  done
  for dir in "${shards[@]}"; do
    # Only files under archive/, no absolute paths, no '..': the artifacts come from our own jobs,
    # but a tar is never trusted to write elsewhere.
    # The lists are read to the end before they are judged: `grep -q` stops at its first match,
    # and under pipefail the writer it leaves behind (SIGPIPE) would turn the test false.
    local listed outside
    listed=$(tar --list --file "$dir/archive.tar")
    outside=$(printf '%s\n' "$listed" | grep -Ev '^archive/|^$' || true)
    outside+=$(printf '%s\n' "$listed" | grep -E '(^|/)\.\.(/|$)' || true)
    [ -z "$outside" ] || die "$dir/archive.tar: holds paths outside archive/"
    tar --extract --file "$dir/archive.tar"
    if [ -s "$dir/deleted" ]; then
      outside=$(tr '\0' '\n' <"$dir/deleted" | grep -Ev '^archive/|^$' || true)
      outside+=$(tr '\0' '\n' <"$dir/deleted" | grep -E '(^|/)\.\.(/|$)' || true)
      [ -z "$outside" ] || die "$dir/deleted: paths outside archive/"
      xargs -0 rm -f -- <"$dir/deleted"
    fi
  done
  # The merged archive must verify before anything is committed, against the key already committed.
  local pinned=() key
  if git cat-file -e HEAD:archive/minisign.pub 2>/dev/null; then
    key=$(mktemp)
    git show HEAD:archive/minisign.pub >"$key"
    pinned=(--public-key "$key")
  fi
  # Verify runs the project's dependencies: never with the push token in its environment.
  env -u CAPTURE_PUSH_TOKEN clausewatch verify "${pinned[@]}"
  # The push holds the token: -I -S keeps out the environment's and the packages' code (a .pth file
  # of the venv whose python3 this is runs at start-up otherwise); the script needs only the stdlib.
  python3 -I -S scripts/commit_capture.py --push ${CAPTURE_BRANCH:+--branch "$CAPTURE_BRANCH"}
}

[ $# -gt 0 ] || die "usage: capture_job.sh plan N | shard I/N OUT | commit DIR..."
verb=$1
shift
case "$verb" in
  plan) [ $# -eq 1 ] || die "usage: capture_job.sh plan N"; plan "$1" ;;
  shard) [ $# -eq 2 ] || die "usage: capture_job.sh shard I/N OUT"; shard "$1" "$2" ;;
  commit) commit "$@" ;;
  *) die "unknown step '$verb' (plan, shard or commit)" ;;
esac
