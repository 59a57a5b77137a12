# list.sh: the backup's listing, put between lib.sh and backup.sh (restore
# needs none of it). Every step is bounded in argument size, and an error is
# never an empty listing.
# each LIST OUT CMD ARG...: run "CMD ARG... -- NAME..." in $D for the names in
# file LIST, at most 1000 at a time (WBO names are at most a few hundred
# bytes: far below the kernel's argument limit), appending the output to OUT.
# A name that vanished meanwhile (WBO renames and deletes) is no error; any
# other error is logged and fails it.
each() {
  l=$1 o=$2
  shift 2
  rm -f "$W"/chunk.* && : >> "$o" || { log "cannot write $o"; return 1; }
  [ -s "$l" ] || return 0
  split -l 1000 -a 5 -- "$l" "$W/chunk." || { log "cannot split $l"; return 1; }
  for c in "$W"/chunk.*; do
    (cd "$D" || exit 1; IFS=$NL; set -f; set -- "$@" -- $(cat -- "$c") && "$@") >> "$o" 2> "$W/err" && continue
    e=1
    while IFS= read -r x; do
      case $x in *": No such file or directory") ;; *) e=2 && log "$x";; esac
    done < "$W/err"
    [ "$e" = 1 ] && [ -s "$W/err" ] || { log "$1 failed in $D"; return 1; }
  done
  rm -f "$W"/chunk.*
}
# list: $W/cur = "name size inode mtime" of every owned board file, sorted.
# Fails (never an empty list) when the directory cannot be read.
list() {
  [ -d "$D" ] && [ -r "$D" ] && [ -x "$D" ] || { log "$D is missing or unreadable: nothing uploaded or deleted"; return 1; }
  (cd "$D" && owned) > "$W/names" || { log "cannot list $D"; return 1; }
  : > "$W/raw" && each "$W/names" "$W/raw" stat -c '%n %s %i %y' && LC_ALL=C sort "$W/raw" > "$W/cur"
}
