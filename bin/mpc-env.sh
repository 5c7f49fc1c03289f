# Sourced by the launch scripts: the JVM options Spark 4 needs on Java 17+ (the same list as the
# parent pom's spark.jvm.flags), and the project's classpath.
SPARK_MPC_JVM_FLAGS="-XX:+IgnoreUnrecognizedVMOptions --add-modules=jdk.incubator.vector \
--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
--add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED \
--add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED \
-Dio.netty.tryReflectionSetAccessible=true --sun-misc-unsafe-memory-access=allow \
--enable-native-access=ALL-UNNAMED"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

# The classpath of the tools. Where only the distributable jar is installed (an organisation's
# gateway or dealer host): SPARK_MPC_JAR names it and SPARK_HOME a Spark installation, whose jars
# give the logging libraries. In a clone of the project: build (once) and print the classpath of
# the integration-tests module, which holds everything.
spark_mpc_classpath() {
  local root="$1"
  if [ -n "${SPARK_MPC_JAR:-}" ]; then
    if [ ! -f "$SPARK_MPC_JAR" ]; then
      echo "SPARK_MPC_JAR=$SPARK_MPC_JAR: no such file (the spark-mpc-*-dist.jar)" >&2
      return 1
    fi
    if [ -z "${SPARK_HOME:-}" ] || [ ! -d "$SPARK_HOME/jars" ]; then
      echo "SPARK_HOME must name a Spark installation (its jars/ give the logging libraries)" \
        "when SPARK_MPC_JAR is set" >&2
      return 1
    fi
    echo "$SPARK_MPC_JAR:$SPARK_HOME/jars/*"
    return
  fi
  local cp="$root/integration-tests/target/classpath.txt"
  if [ ! -f "$root/integration-tests/target/classes/org/sparkmpc/it/Demo.class" ] || [ ! -f "$cp" ] \
      || [ "$root/integration-tests/pom.xml" -nt "$cp" ] || [ "$root/pom.xml" -nt "$cp" ]; then
    (cd "$root" && mvn -B -q -DskipTests install \
      && mvn -B -q -pl integration-tests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt) >&2
  fi
  echo "$root/integration-tests/target/classes:$(cat "$cp")"
}
