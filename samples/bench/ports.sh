# Sourced by the bench scripts (run from the repository root), never run itself.

# Prints a TCP port nothing listens on now, picked at random in 20000-49999.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  echo "no free port found" >&2; return 1
}
