#!/bin/sh
# Builds and tests the Java SDK with Debian's JDK and jars, offline (no Gradle, no Maven):
#   sdk/java/build.sh OUT              compile main (javac --release 8) and tests into OUT, jar the SDK
#   sdk/java/build.sh OUT test CLASS…  run JUnit 4 test classes (io.wshub.client.ReconnectTest …)
#   sdk/java/build.sh OUT run CLASS ARG…  run a main class of the tests (OutboxDrainMeasure)
# Jars: libokhttp-java, libokio-java, libandroid-json-java (org.json as Android ships it), junit4.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$1
shift
jars=/usr/share/java
runtime="$jars/okhttp.jar:$jars/okio.jar:$jars/com.android.json.jar"
testing="$jars/junit4.jar:$jars/hamcrest-core.jar"
for jar in okhttp.jar okio.jar com.android.json.jar junit4.jar hamcrest-core.jar; do
  [ -f "$jars/$jar" ] || { echo "build.sh: $jars/$jar is missing (apt-get install libokhttp-java libokio-java libandroid-json-java junit4)" >&2; exit 1; }
done

if [ $# -gt 0 ] && [ "$1" = test ]; then
  shift
  exec java -cp "$out/classes:$out/test-classes:$runtime:$testing" org.junit.runner.JUnitCore "$@"
fi
if [ $# -gt 0 ] && [ "$1" = run ]; then
  shift
  exec java -cp "$out/classes:$out/test-classes:$runtime:$testing" "$@"
fi

# Android API 21 lacks these (CompletableFuture, java.util.function and streams, and the Java 8
# default methods of collections came with API 24; java.nio.file and java.time with API 26).
# javac --release 8 cannot tell, so the main sources' code lines are checked by name here.
android_missing='java\.util\.function|java\.util\.stream|java\.nio\.file|java\.time|CompletableFuture|Optional<|\.(forEach|removeIf|getOrDefault|putIfAbsent|computeIfAbsent|computeIfPresent|merge|replaceAll)\(|StandardCharsets'
if grep -nE "$android_missing" $(find "$here/src/main/java" -name '*.java') | grep -vE '^[^:]+:[0-9]+: *(//|\*)'; then
  echo "build.sh: the lines above use API that Android has only from API 24 or 26 (minSdk is 21)" >&2
  exit 1
fi

rm -rf "$out/classes" "$out/test-classes" "$out/examples"
mkdir -p "$out/classes" "$out/test-classes"
# -Werror: a warning (an unchecked cast, a missing serialVersionUID) fails the build.
javac --release 8 -Xlint:all -Werror -encoding UTF-8 -cp "$runtime" -d "$out/classes" \
  $(find "$here/src/main/java" -name '*.java' | sort)
javac --release 8 -encoding UTF-8 -cp "$out/classes:$runtime:$testing" -d "$out/test-classes" \
  $(find "$here/src/test/java" -name '*.java' | sort)
# The README's example, compiled so that it cannot drift from the API.
mkdir -p "$out/examples"
javac --release 8 -encoding UTF-8 -cp "$out/classes:$runtime" -d "$out/examples" "$here"/examples/*.java
jar cf "$out/wshub-client.jar" -C "$out/classes" .
echo "build.sh: $out/wshub-client.jar"
