# restore.sh: before WBO starts, copy this shard's boards from
# s3://$WBO_BUCKET/$WBO_PREFIX into $WBO_DATA_DIR and give the directory to
# WBO's user ($WBO_UID:$WBO_GID, default 1000:1000). Exits non-zero on any
# error, so WBO (which depends on this container's SUCCESS) never starts on a
# half-restored directory whose next backup would then lose boards.
N=restore
setup
U=${WBO_UID:-1000} G=${WBO_GID:-1000}
set -f
set --
for p in $INCS; do set -- "$@" --include "board-$p*.svg" --include "board-$p*.json"; done
set +f
mkdir -p "$D" || die "cannot create $D"
log "copying boards with keys [${WBO_SHARD_KEYS:-all}] from s3://$B/$P to $D"
aws s3 cp "s3://$B/$P" "$D" --recursive --only-show-errors --exclude '*' "$@" ||
  die "copy from s3://$B/$P failed"
if ! chown -R "$U:$G" "$D"; then
  [ "$(id -u)" != 0 ] || die "cannot give $D to $U:$G"
  log "warning: not root, $D stays owned by $(id -u)"
fi
cd "$D" || die "cannot enter $D"
n=$(owned | wc -l)
log "restored $n boards"
