# tests/integration/daemon.sh -- the program: -t, config errors, signals.
# shellcheck shell=bash

write_config "$WORK/good.yaml"
t "-t accepts a good config" \
  '"$EGRESSD" -t -c "$WORK/good.yaml" | grep -q "configuration OK"'

sed 's/^  tcp-max-connections: 16/  tcp-max-connectoins: 16/' "$WORK/good.yaml" >"$WORK/typo.yaml"
t "-t names file, line and key of an unknown key" \
  '! "$EGRESSD" -t -c "$WORK/typo.yaml" 2>"$WORK/err" && grep -E "typo.yaml:[0-9]+: server.tcp-max-connectoins: unknown key" "$WORK/err"'

sed 's/do-not-query-localhost: "no"/no-such-option: "1"/' "$WORK/good.yaml" >"$WORK/ubopt.yaml"
t "-t lets libunbound judge unbound-options" \
  '! "$EGRESSD" -t -c "$WORK/ubopt.yaml" 2>"$WORK/err" && grep -E "ubopt.yaml:[0-9]+: resolution.unbound-options.no-such-option" "$WORK/err"'

sed "s|trust-anchor: .*|trust-anchor: $WORK/missing.key|" "$WORK/good.yaml" >"$WORK/ta.yaml"
t "-t checks the files the config names" \
  '! "$EGRESSD" -t -c "$WORK/ta.yaml" 2>"$WORK/err" && grep -q "resolution.trust-anchor: cannot read" "$WORK/err"'

printf 'server:\n  listen: [ { transport: dns, address: "127.0.0.1:5301" }\n' >"$WORK/syntax.yaml"
t "a YAML syntax error names the line" \
  '! "$EGRESSD" -t -c "$WORK/syntax.yaml" 2>"$WORK/err" && grep -E "syntax.yaml:[0-9]+: YAML:" "$WORK/err"'

t "egressd without -f detaches and reports start-up errors through its exit status" \
  '! "$EGRESSD" -c "$WORK/typo.yaml" 2>/dev/null'

# SIGTERM while a query waits on an unreachable authority: the client still
# gets an answer (SERVFAIL) and the daemon exits 0 within the drain time.
start_egressd "$WORK/good.yaml" "$WORK/egressd-term.log"
(q www.dead.com A +time=15 >"$WORK/term-dig.out" 2>&1) &
dig_pid=$!
sleep 0.5
t0=$(date +%s)
stop_egressd
t1=$(date +%s)
wait "$dig_pid"
t "SIGTERM: exit status 0" '[ "$EG_RC" = 0 ]'
t "SIGTERM: stopped within the drain time (<= 8 s)" '[ $((t1 - t0)) -le 8 ]'
t "SIGTERM: the query in flight was answered" 'grep -q "status: SERVFAIL" "$WORK/term-dig.out"'
t "SIGTERM: the log says it drained" 'grep -q "finishing queries in flight" "$WORK/egressd-term.log"'
