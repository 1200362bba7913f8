#!/bin/sh
# Fails on quoting mistakes that `mandoc -Tlint` lets through: an mdoc
# quoting macro (Ql, Dq, Sq, Qq) encloses everything up to the end of its
# line, so a second quoting macro on that line nests inside the first
# (‘JAN–‘DEC’’) and a delimiter followed by more words stays inside the
# quote (‘systemctl restart, a package upgrade’). Each page is checked in
# its source and in what mandoc and, when installed, groff render from it.
# Usage: check-man-quotes.sh PAGE...
status=0
for page in "$@"; do
  # The source: a quote opened inside a quote, or one running past a delimiter.
  out=$(awk '/^\./ {
      n = split($0, t, /[ \t]+/); open = 0
      for (i = 1; i <= n; i++) {
        if (t[i] ~ /^\.?(Ql|Dq|Sq|Qq)$/) {
          if (open) { print FILENAME ":" FNR ": a quote opened inside a quote: " $0; next }
          open = 1; continue
        }
        if (!open || t[i] !~ /^[.,:;)?!\]]$/) continue
        for (j = i + 1; j <= n; j++)
          if (t[j] !~ /^[.,:;)?!\]]$/) { print FILENAME ":" FNR ": a quote runs past \"" t[i] "\": " $0; next }
      }
    }' "$page")
  # The rendering: a quote opened before the one open is closed.
  for renderer in "mandoc -Tutf8" "groff -mandoc -Tutf8"; do
    command -v "${renderer%% *}" >/dev/null 2>&1 || continue
    nested=$($renderer "$page" 2>/dev/null | sed 's/.\x08//g' |
             grep -n "‘[^’]*‘\|“[^”]*“") &&
      out="$out${out:+
}$page: ${renderer%% *} renders a quote inside a quote:
$nested"
  done
  if [ -n "$out" ]; then echo "$out"; echo "check-man-quotes: $page quotes wrongly"; status=1
  else echo "check-man-quotes: $page quotes cleanly"; fi
done
exit $status
