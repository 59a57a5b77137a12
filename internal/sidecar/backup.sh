# backup.sh: every $WBO_SYNC_INTERVAL seconds upload this shard's board files
# that changed (size, inode or mtime) since the last upload, and delete the
# object of a board file it saw that WBO deleted (versioning keeps the old
# version). It never deletes half or more (and at least 2) of the boards it
# knows in one sync: an emptied directory is no reason to empty the bucket.
# On SIGTERM/SIGINT: one final sync, then exit 0 (non-zero if that sync
# failed), so WBO's own SIGTERM flush, done before this container is stopped,
# reaches S3. WBO_BACKUP_ONCE=1: one sync, exit status = its result (no
# lease). With WBO_LEASE_NAME the loop holds the shard's lease (lib.sh) from
# its start until after its final sync.
#
# State: $WBO_STATE_FILE (default in $TMPDIR) holds "name size inode mtime" of
# each file as last uploaded, sorted. The loop seeds it from the directory as
# restore.sh left it (those files are in S3 already); one-shot mode without a
# state file uploads everything and deletes nothing.
N=backup
setup
secs WBO_SYNC_INTERVAL 10
I=$R
W=${TMPDIR:-/tmp}/wbo-backup.$$
S=${WBO_STATE_FILE:-$W/state}
mkdir -p "$W" || die "cannot create $W"
sync_once() {
  list || return 1
  LC_ALL=C comm -13 "$S" "$W/cur" | cut -d' ' -f1 > "$W/up"
  cut -d' ' -f1 "$S" > "$W/old"
  cut -d' ' -f1 "$W/cur" | LC_ALL=C comm -23 "$W/old" - > "$W/gone"
  cp "$W/cur" "$W/next"
  ok=1 up=0 del=0
  if [ -s "$W/up" ]; then
    rm -rf "$W/stage" && mkdir "$W/stage" || return 1
    up=$(wc -l < "$W/up")
    each "$W/up" /dev/null cp -t "$W/stage" || ok=
    [ -z "$ok" ] || aws s3 cp "$W/stage" "s3://$B/$P" --recursive --only-show-errors || ok=
  fi
  g=$(wc -l < "$W/gone") o=$(wc -l < "$W/old")
  if [ "$g" -ge 2 ] && [ $((g * 2)) -ge "$o" ]; then
    log "refusing to delete $g of $o boards at once (data dir emptied?); keeping their objects"
    while IFS= read -r f; do echo "$f -"; done < "$W/gone" >> "$W/next"
  elif [ "$g" -gt 0 ]; then
    while IFS= read -r f; do
      aws s3 rm "s3://$B/$P$f" --only-show-errors && del=$((del + 1)) || ok=
    done < "$W/gone"
  fi
  [ -n "$ok" ] || { log "sync failed; will retry"; return 1; }
  LC_ALL=C sort "$W/next" > "$S.new" && mv "$S.new" "$S" || return 1
  [ $((up + del)) -eq 0 ] || log "uploaded $up, deleted $del board files"
  LOK=$($NOW)
  [ -n "$NB" ] && [ $((up + del)) -eq 0 ] || counts
}
# counts: NB, NBY = the boards and bytes of the last listing.
counts() {
  NB=$(wc -l < "$W/cur") NBY=$((0+$(cut -d' ' -f2 "$W/cur" | tr '\n' '+')0))
}
# beat: write the lease: this task's owner token, the time now (LB), and
# the recovery point: the time of the last successful sync (LOK, 0 = none
# yet), with the number of boards and bytes it saw (`wbo-deploy status`
# reads them; internal/sidecar ParseLease).
beat() {
  LB=$($NOW)
  printf '%s %s %s %s %s\n' "$ME" "$LB" "${LOK:-0}" "${NB:-0}" "${NBY:-0}" > "$W/lease" && aws s3 cp "$W/lease" "s3://$B/$LK" --only-show-errors ||
    log "cannot write the lease s3://$B/$LK"
}
# release: delete the lease unless another task has taken it over since.
release() {
  if lget && [ "$LO" = "$ME" ] && aws s3 rm "s3://$B/$LK" --only-show-errors; then
    log "lease $LN released"
  else
    log "lease $LN not released (held by ${LO:-nobody})"
  fi
}
if [ "${WBO_BACKUP_ONCE-}" = 1 ]; then
  [ -f "$S" ] || : > "$S" || die "cannot write $S"
  sync_once
  exit
fi
T=
trap 'T=1' TERM INT
LOK= NB=
if [ ! -f "$S" ]; then
  # The directory as restore left it is what S3 holds: a recovery point.
  list && cp "$W/cur" "$S" || die "cannot list $D"
  LOK=$($NOW)
  counts
fi
# The lease (WBO_LEASE_NAME set): taken at start, a heartbeat every
# WBO_LEASE_TTL/3 s whatever the sync interval (a PUT each time), one more
# when stopping (the TTL then covers the final sync), released at the end.
[ -z "$LK" ] || { me; beat; }
log "watching $D ($(wc -l < "$S") boards) every ${I}s, keys [${WBO_SHARD_KEYS:-all}] -> s3://$B/$P${LK:+, lease $LN as $ME}"
# Sleep in 1 s steps: a signal arriving just before "wait" delays the final
# sync by at most a second, whatever the interval.
while [ -z "$T" ]; do
  n=0
  while [ -z "$T" ] && [ $n -lt "$I" ]; do
    $NAP 1 &
    wait $!
    n=$((n + 1))
    [ -z "$LK" ] || [ -n "$T" ] || [ $(($($NOW) - LB)) -lt $((LT0 / 3)) ] || beat
  done
  [ -n "$T" ] || sync_once
done
kill $! 2>/dev/null
log "stopping: final sync"
[ -z "$LK" ] || beat
n=0
until sync_once; do
  n=$((n + 1))
  if [ $n -ge 3 ]; then
    [ -z "$LK" ] || release
    die "final sync failed"
  fi
  $NAP 1
done
log "final sync done"
[ -z "$LK" ] || release
