# lib.sh: shared by restore.sh and backup.sh; the Go package puts it in front
# of each (standalone: cat lib.sh restore.sh | sh; cat lib.sh list.sh backup.sh | sh). POSIX sh plus coreutils
# only: the AWS CLI image (Amazon Linux 2023 since 2.27.51) has no find/xargs.
#
# A board file is board-<name>.svg (or .json from old WBO versions), <name>
# raw UTF-8 (current WBO) or percent-encoded (older WBO). Its shard key is the
# first byte of the name, ASCII letters lower-cased (internal/shard/key.go).
# keypats turns WBO_SHARD_KEYS ("61 62 d0", empty = every board) into
#   K:    non-empty when only some keys are owned;
#   RAW:  the contents of one sh bracket expression matching the first byte
#         of an owned raw name (both cases of a letter; UTF-8 lead bytes);
#   K_xx: a variable set for each spelling xx (either case of each hex digit)
#         of an owned percent-encoded first byte "%xx";
#   INCS: aws --include glob fragments for the text after "board-", one per
#         form of each key; Python's fnmatch matches them against Unicode
#         names, so a raw lead byte is the range of characters starting with
#         it, e.g. d0 -> [U+0400-U+043F].
# So owned() tests a name in constant time whatever the number of keys: one
# bracket match or one variable lookup (matched byte by byte, LC_ALL=C).
LC_ALL=C
# The clock: $($NOW) is the time (unix seconds), $NAP N sleeps N seconds.
# WBO_TEST_CLOCK, set by tests only (the tool never does), names a command
# (a path without blanks) that stands in for both, called as "date +%s" and
# "sleep N" are, so that a test moves the time instead of waiting for it.
NOW="${WBO_TEST_CLOCK:-date} +%s" NAP=${WBO_TEST_CLOCK:-sleep}
log() { echo "$N: $*" >&2; }
die() { log "$*"; exit 1; }
# up: U = the upper-case form of hex digit $1 (empty for a digit).
up() {
  case $1 in a) U=A;; b) U=B;; c) U=C;; d) U=D;; e) U=E;; f) U=F;; *) U=;; esac
}
keypats() {
  INCS= K= RAW=/ RAWD= seen=' '
  set -f
  for k in ${WBO_SHARD_KEYS-}; do
    case $k in [0-9a-f][0-9a-f]) ;; *) die "WBO_SHARD_KEYS: \"$k\" is not two lower-case hex digits";; esac
    case $seen in *" $k "*) die "WBO_SHARD_KEYS: key $k is listed twice";; esac
    seen="$seen$k "
    K=1
    g=
    case $k in
      3[0-9]) g=${k#3};;
      4[1-9a-f]|5[0-9a]) die "WBO_SHARD_KEYS: key $k is an upper-case letter; keys are lower-cased";;
      6[1-9a-f]|7[0-9a])
        n=$((0x$k - 0x61)) l=abcdefghijklmnopqrstuvwxyz u=ABCDEFGHIJKLMNOPQRSTUVWXYZ
        while [ "$n" -gt 0 ]; do l=${l#?} u=${u#?} n=$((n - 1)); done
        g="[${l%"${l#?}"}${u%"${u#?}"}]" RAW="$RAW${l%"${l#?}"}${u%"${u#?}"}";;
      2d) g=- RAWD=-;; 2e) g=.;; 5f) g=_;; 7e) g='~';; 21) g='!';; 27) g="'";; 28) g='(';; 29) g=')';; 2a) g='[*]';;
    esac
    case $k in 3[0-9] | 2[e1789] | 5f | 7e) RAW="$RAW$g";; esac
    [ "$k" != 2a ] || RAW="$RAW*"
    if [ -n "$g" ]; then INCS="$INCS $g"; continue; fi
    # Percent-encoded form, either case of each hex digit.
    h=${k%?} l=${k#?}
    up "$h"; H=$U
    up "$l"; L=$U
    for a in $h $H; do for b in $l $L; do eval "K_$a$b=1"; done; done
    INCS="$INCS %[$h$H][$l$L]"
    # Raw UTF-8 form: only valid lead bytes; s/e = first/last continuation bytes.
    case $k in
      c[2-9a-f]|d?) s='\200' e='\277';;
      e0) s='\240\200' e='\277\277';;
      ed) s='\200\200' e='\237\277';;
      e?) s='\200\200' e='\277\277';;
      f0) s='\220\200\200' e='\277\277\277';;
      f[1-3]) s='\200\200\200' e='\277\277\277';;
      f4) s='\200\200\200' e='\217\277\277';;
      *) continue;;
    esac
    o=\\$(printf %o $((0x$k)))
    RAW="$RAW$(printf "$o")" INCS="$INCS [$(printf "$o$s-$o$e")]"
  done
  set +f
  RAW=$RAW$RAWD
  [ -n "$INCS" ] || INCS='*'
}
# owned: print the owned board files (svg/json, no temp files) in the current
# directory, one per line; names with blanks are no WBO board and are skipped.
# One directory scan by the shell itself (no exec, so no argument limit).
owned() {
  set +f
  for f in board-*; do
    case $f in *.svg | *.json) ;; *) continue;; esac
    case $f in *" "* | *"$TAB"* | *"$NL"*) continue;; esac
    if [ -n "$K" ]; then
      case $f in
        board-%*)
          t=${f#board-%} && t=${t%"${t#??}"}
          case $t in [0-9A-Fa-f][0-9A-Fa-f]) eval "[ -n \"\${K_$t-}\" ]" || continue;; *) continue;; esac;;
        board-[$RAW]*) ;;
        *) continue;;
      esac
    fi
    [ -f "$f" ] && printf '%s\n' "$f"
  done
  return 0
}
# secs VAR DEFAULT: R = $VAR (DEFAULT when unset or empty), a whole number
# of seconds > 0 without leading zeros (sh reads 010 as octal), or die.
secs() {
  eval "R=\${$1:-$2}"
  case $R in '' | 0* | *[!0-9]*) die "$1 must be a whole number of seconds > 0, got \"$R\"";; esac
}
# setup: read the settings common to both scripts (N = the script's name).
setup() {
  B=${WBO_BUCKET-}
  [ -n "$B" ] || die "WBO_BUCKET is not set"
  D=${WBO_DATA_DIR-}
  case $D in /*) ;; *) die "WBO_DATA_DIR must be an absolute path, got \"$D\"";; esac
  P=${WBO_PREFIX-}
  case $P in '' | */) ;; *) P=$P/;; esac
  keypats
  LN=${WBO_LEASE_NAME-} LK=
  [ -n "$LN" ] || return 0
  case $LN in .* | *[!A-Za-z0-9_.-]*) die "WBO_LEASE_NAME: \"$LN\" is not letters, digits and _.- (not starting with .)";; esac
  LK=$P.leases/$LN
  CL=${WBO_CLUSTER-}
  case $CL in *[!A-Za-z0-9_-]*) die "WBO_CLUSTER: \"$CL\" is not an ECS cluster name (letters, digits, _ and -)";; esac
  secs WBO_LEASE_TTL 150
  LT0=$R
  secs WBO_LEASE_WAIT 300
  LW=$R
  secs WBO_LEASE_POLL 5
  LP=$R
}
# The lease of a shard (WBO_LEASE_NAME set; see the package doc): object
# s3://$B/$LK, under the board prefix (the task role may only write there)
# and no board (both scripts take board-* names only), holding
# "<owner> <unix time of the last heartbeat>" and, from backup, the recovery
# point "<unix time of its last successful sync> <boards> <bytes>".
# me: ME = this task's owner token, kept in $D/.wbo-lease-owner (WBO reads
# only board-* files there) so that the task's restore and backup share it:
# the ECS task ARN when the task metadata endpoint answers, else host name,
# pid, time and random bytes.
me() {
  F=$D/.wbo-lease-owner
  ME=$(cat "$F" 2>/dev/null)
  [ -z "$ME" ] || return 0
  [ -z "${ECS_CONTAINER_METADATA_URI_V4-}" ] || j=$(curl -fs -m 3 "$ECS_CONTAINER_METADATA_URI_V4/task" 2>/dev/null | tr -d ' ')
  case ${j-} in *'"TaskARN":"'*) j=${j#*'"TaskARN":"'} ME=${j%%'"'*};; esac
  [ -n "$ME" ] || ME=$(uname -n)-$$-$(date +%s)-$(od -An -N6 -tx1 /dev/urandom)
  ME=$(printf %s "$ME" | tr -dc 'A-Za-z0-9:/._-')
  printf '%s\n' "$ME" > "$F" || die "cannot write $F"
}
# lget: LO, LA = owner and age (s) of the lease; fails if it is unreadable.
lget() {
  LO= LA=
  c=$(aws s3 cp "s3://$B/$LK" - 2>/dev/null) || return 1
  LO=${c%% *} c=${c#* }
  c=${c%% *}
  case $c in '' | *[!0-9]*) c=0;; esac
  LA=$(($($NOW) - c))
}
NL=$(printf '\nx') TAB=$(printf '\t')
NL=${NL%x}
