#!/usr/bin/env bash
# Run the Spark reference job (bench/spark/job.py) from a fresh clone: installs
# pyspark (bench/spark/requirements.txt) into .cache/spark-venv and fetches
# Spark's Kafka connector with Maven (bench/spark/pom.xml) into .cache/spark-jars,
# each once per version of its file, then runs the job with Java 17.
#
#   bench/spark/run.sh --topic T --redis redis://127.0.0.1:6379/10 --checkpoint DIR --result FILE
#   bench/spark/run.sh --prepare        only install the dependencies
#
# Every other argument goes to job.py (see job.py --help).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=$root/.cache
venv=$cache/spark-venv
jars=$cache/spark-jars

say() { echo "spark: $*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/spark.lock"
flock 9

want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || "$(cat "$venv/.requirements.sha" 2>/dev/null)" != "$want" ]]; then
    say "installing pyspark into $venv (one time, ~350 MB)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    echo "$want" >"$venv/.requirements.sha"
fi

want=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)
if [[ ! -f $jars/.pom.sha || "$(cat "$jars/.pom.sha")" != "$want" ]]; then
    command -v mvn >/dev/null || { say "maven (mvn) not found: run scripts/setup.sh"; exit 1; }
    say "fetching the kafka connector with maven into $jars"
    rm -rf "$jars" "$jars.tmp"
    mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$jars.tmp" >&2
    echo "$want" >"$jars.tmp/.pom.sha"
    mv "$jars.tmp" "$jars"
fi
exec 9>&-

# The connector's jars minus those pyspark already ships (another version of
# scala-library or snappy-java beside pyspark's own would clash).
shipped=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
list=()
for j in "$jars"/*.jar; do
    base=$(basename "$j" .jar)
    artifact=${base%-[0-9]*}
    compgen -G "$shipped/$artifact-[0-9]*.jar" >/dev/null || list+=("$j")
done
jarlist=$(
    IFS=,
    echo "${list[*]}"
)

[[ ${1:-} == --prepare ]] && exit 0

java_home=${JAVA_HOME:-}
if [[ -z $java_home && -d /usr/lib/jvm/java-17-openjdk-amd64 ]]; then
    java_home=/usr/lib/jvm/java-17-openjdk-amd64
fi
export JAVA_HOME=${java_home:-$JAVA_HOME}
export PYSPARK_PYTHON=$venv/bin/python PYSPARK_DRIVER_PYTHON=$venv/bin/python
export SPARK_LOCAL_IP=127.0.0.1
exec "$venv/bin/python" "$here/job.py" --jars "$jarlist" "$@"
