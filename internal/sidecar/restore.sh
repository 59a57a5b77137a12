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
# Wait for the lease: the previous task of this shard (still stopping while
# ECS starts this one) releases it after its final backup. Go on when it is
# free, this task's own (a restarted restore), stale (its task died), or after
# WBO_LEASE_WAIT s, or when ECS reports the holder (a task ARN) stopped
# (WBO_CLUSTER: the cluster to ask). The listing tells "no lease" from "no access": a GET of a
# missing key is a 403 for a role whose s3:ListBucket has a prefix condition.
if [ -n "$LK" ]; then
  me
  t=$($NOW) w= s=
  while :; do
    k=$(aws s3api list-objects-v2 --bucket "$B" --prefix "$LK" --max-items 1 --query 'Contents[0].Key' --output text) ||
      die "cannot list s3://$B/$LK"
    if [ "$k" != "$LK" ]; then m=${w:+"released by its owner"}; m=${m:-"is free"}; break; fi
    # Unreadable (just deleted?): look again.
    if lget; then
      if [ "$LO" = "$ME" ]; then m="is held by this task"; break; fi
      if [ "$LA" -ge "$LT0" ]; then m="is stale (last heartbeat of $LO ${LA}s ago)"; break; fi
      # A task ECS reports as stopped has no backup left to wait for: its
      # containers have all exited (a crash or a lost host), so its lease
      # will never be released. Other states, or no answer, mean waiting.
      case $LO in
        arn:*:ecs:*:task/*)
          if [ -n "$CL" ]; then
            if e=$(aws ecs describe-tasks --cluster "$CL" --tasks "$LO" --query 'tasks[0].lastStatus' --output text 2>&1); then
              case $e in DEPROVISIONING | STOPPED | DELETED) m="is held by $LO, which ECS reports $e"; break;; esac
            else
              log "cannot look up $LO in cluster $CL (waiting for its lease instead): $e"
              CL=
            fi
          fi;;
      esac
      [ -n "$s" ] || log "waiting for $LO to release lease $LN (heartbeat ${LA}s ago)"
      s=1
    fi
    if [ $(($($NOW) - t)) -ge "$LW" ]; then m="still held by ${LO:-?}: giving up waiting"; break; fi
    w=1
    $NAP "$LP"
  done
  log "lease $LN $m; waited $(($($NOW) - t))s; this task is $ME"
fi
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
