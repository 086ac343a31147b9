# Sourced by the bench scripts (run from the repository root), never run itself.

# Prints a TCP port no socket uses now, picked at random in 20000-32767: below Linux's
# ephemeral range (32768 up), which hundreds of wrk and upstream connections draw from, so a
# port found free here is not taken by an outgoing connection before the server binds it.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12768))
    ss -Htan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  echo "no free port found" >&2; return 1
}
