# Sourced by bin/sluice and by the repository's ./sluice: sets JAVA to a java of version 25 or newer.
# Order: $JAVA_HOME, then the newest JDK under /usr/lib/jvm, then java on PATH.
sluice_java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1
}
sluice_find_java() {
  local candidate major
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV) \
                   $(command -v java 2>/dev/null); do
    [ -x "$candidate" ] || continue
    major=$(sluice_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      JAVA="$candidate"
      return 0
    fi
  done
  echo "sluice: no JDK 25 or newer found (looked at \$JAVA_HOME, /usr/lib/jvm/*, PATH)." >&2
  echo "sluice: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
