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

# Build (once) and print the classpath of the integration-tests module, which holds everything.
spark_mpc_classpath() {
  local root="$1"
  local cp="$root/integration-tests/target/classpath.txt"
  if [ ! -f "$root/integration-tests/target/classes/org/sparkmpc/it/Demo.class" ] || [ ! -f "$cp" ] \
      || [ "$root/integration-tests/pom.xml" -nt "$cp" ] || [ "$root/pom.xml" -nt "$cp" ]; then
    (cd "$root" && mvn -B -q -DskipTests install \
      && mvn -B -q -pl integration-tests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt) >&2
  fi
  echo "$root/integration-tests/target/classes:$(cat "$cp")"
}
