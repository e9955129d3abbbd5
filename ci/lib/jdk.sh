# ci/lib/jdk.sh - finds a JDK 22 or newer (the engine is called through FFM, final in JDK 22).
# POSIX sh, sourced by ./mvnw, ./mobilellm, ci/bench-report.sh and .ci/run:
#
#   . "$root/ci/lib/jdk.sh"
#   mllm_find_jdk || echo "no JDK 22+" >&2
#
# mllm_find_jdk exports JAVA_HOME as the first of:
#   1. JAVA_HOME, when its java is 22 or newer;
#   2. the java on PATH, when it is 22 or newer;
#   3. the newest JDK 22+ among the usual install folders: /usr/lib/jvm/* (Debian, Ubuntu, Fedora),
#      /usr/java/*, /opt/java/*, /opt/jdk*, ~/.sdkman/candidates/java/*, ~/.jdks/* and, on macOS,
#      /Library/Java/JavaVirtualMachines/*/Contents/Home.
# A JAVA_HOME that is set but older is replaced, with a note on stderr. When no JDK 22+ is found it
# returns 1 and leaves JAVA_HOME as it was.

# mllm_jdk_major JAVA: the feature version of a java launcher (0 when it does not run).
mllm_jdk_major() {
  _mllm_v=$("$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^[[:space:]]*java\.specification\.version = //p' | head -n 1)
  case "$_mllm_v" in
    1.*) _mllm_v=${_mllm_v#1.}; _mllm_v=${_mllm_v%%.*} ;;
    '') _mllm_v=0 ;;
    *) _mllm_v=${_mllm_v%%.*} ;;
  esac
  case "$_mllm_v" in *[!0-9]*) _mllm_v=0 ;; esac
  printf '%s\n' "$_mllm_v"
}

mllm_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] &&
    [ "$(mllm_jdk_major "$JAVA_HOME/bin/java")" -ge 22 ]; then
    export JAVA_HOME
    return 0
  fi
  _mllm_old=${JAVA_HOME:-}
  _mllm_found=
  if command -v java >/dev/null 2>&1 && [ "$(mllm_jdk_major java)" -ge 22 ]; then
    _mllm_java=$(command -v java)
    # the JDK folder: java is JAVA_HOME/bin/java behind any chain of links (/usr/bin/java, alternatives)
    _mllm_java=$(readlink -f "$_mllm_java" 2>/dev/null || printf '%s' "$_mllm_java")
    _mllm_found=${_mllm_java%/bin/java}
  else
    _mllm_best=0
    for _mllm_home in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "${HOME:-/nonexistent}"/.sdkman/candidates/java/* \
      "${HOME:-/nonexistent}"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
      [ -x "$_mllm_home/bin/java" ] && [ -x "$_mllm_home/bin/javac" ] || continue
      _mllm_major=$(mllm_jdk_major "$_mllm_home/bin/java")
      if [ "$_mllm_major" -ge 22 ] && [ "$_mllm_major" -gt "$_mllm_best" ]; then
        _mllm_best=$_mllm_major
        _mllm_found=$_mllm_home
      fi
    done
  fi
  [ -n "$_mllm_found" ] || return 1
  if [ -n "$_mllm_old" ]; then
    printf 'note: JAVA_HOME=%s is not JDK 22 or newer; using %s\n' "$_mllm_old" "$_mllm_found" >&2
  fi
  JAVA_HOME=$_mllm_found
  export JAVA_HOME
}
