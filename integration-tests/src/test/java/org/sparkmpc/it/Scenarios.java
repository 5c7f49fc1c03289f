package org.sparkmpc.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BiConsumer;

/** Runs {@link ScenarioParty} as one JVM per party and reads back what each step left. */
final class Scenarios {
  private Scenarios() {}

  /** Fast-starting JVMs for tests (not for the benchmark). */
  static final List<String> TEST_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  static List<LocalParties.Outcome> run(Path work, List<String> parties, Duration timeout,
      BiConsumer<Integer, Properties> configure) {
    Path keys = LocalParties.keys(work.resolve("keys"), parties);
    String spec = LocalParties.partiesSpec(parties, LocalParties.freePorts(parties.size()));
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < parties.size(); i++) {
      Properties p = LocalParties.baseConfig(parties.get(i), spec, keys, timeout);
      p.setProperty("out", work.resolve(parties.get(i)).resolve("steps").toString());
      configure.accept(i, p);
      confs.put(parties.get(i), p);
    }
    return LocalParties.run(work, confs, "-Xmx768m", Duration.ofMinutes(5),
        ScenarioParty.class.getName(), TEST_JVM);
  }

  /**
   * Run the party runner ({@code PartyRunner}) for {@code parties}, each its own JVM, with keys in
   * {@code keys}: each config is the base one (a 30 s {@code spark.mpc.timeout}) with
   * {@code output=<run>/<party>/result}, then {@code configure}'s keys.
   */
  static List<LocalParties.Outcome> runRunner(Path run, List<String> parties, Path keys,
      BiConsumer<Integer, Properties> configure) {
    String spec = LocalParties.partiesSpec(parties, LocalParties.freePorts(parties.size()));
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < parties.size(); i++) {
      Properties p = LocalParties.baseConfig(parties.get(i), spec, keys, Duration.ofSeconds(30));
      p.setProperty("output", run.resolve(parties.get(i)).resolve("result").toString());
      configure.accept(i, p);
      confs.put(parties.get(i), p);
    }
    return LocalParties.run(run, confs, "-Xmx512m", Duration.ofMinutes(3),
        "org.sparkmpc.spark.runner.PartyRunner", TEST_JVM);
  }

  /** What a run with a dealer left: the parties' outcomes and the dealer's exit and output. */
  record DealerRun(List<LocalParties.Outcome> parties, int dealerExit, String dealerOutput) {}

  /**
   * Run {@link ScenarioParty} for {@code parties} with a dealer process (listed last, named
   * {@code dealer}, set as {@code spark.mpc.dealer} at every party); waits for the dealer to end.
   */
  static DealerRun runWithDealer(Path work, List<String> parties,
      BiConsumer<Integer, Properties> configure) throws Exception {
    List<String> members = new java.util.ArrayList<>(parties);
    members.add("dealer");
    Path keys = LocalParties.keys(work.resolve("keys"), members);
    String spec = LocalParties.partiesSpec(members, LocalParties.freePorts(members.size()));
    Process dealer = startDealer(work, spec, keys);
    Map<String, Properties> confs = new LinkedHashMap<>();
    for (int i = 0; i < parties.size(); i++) {
      Properties p = LocalParties.baseConfig(parties.get(i), spec, keys, Duration.ofSeconds(60));
      p.setProperty("spark.mpc.dealer", "dealer");
      p.setProperty("out", work.resolve(parties.get(i)).resolve("steps").toString());
      configure.accept(i, p);
      confs.put(parties.get(i), p);
    }
    List<LocalParties.Outcome> outs = LocalParties.run(work, confs, "-Xmx768m",
        Duration.ofMinutes(4), ScenarioParty.class.getName(), TEST_JVM);
    boolean ended = dealer.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    if (!ended) {
      dealer.destroyForcibly().waitFor();
    }
    Path dir = work.resolve("dealer");
    return new DealerRun(outs, ended ? dealer.exitValue() : -1,
        Files.readString(dir.resolve("stdout.txt")) + Files.readString(dir.resolve("stderr.txt")));
  }

  /** Start a dealer process for {@code members} (the dealer listed last), serving one session. */
  static Process startDealer(Path work, String spec, Path keys) throws Exception {
    return LocalParties.startDealer(work, spec, keys, Duration.ofSeconds(60), TEST_JVM);
  }

  static Path step(Path work, String party, String step) {
    return work.resolve(party).resolve("steps").resolve(step);
  }

  /**
   * The revealed rows {@code party} wrote for {@code step} ({@code result.csv}), by their first
   * column; the step must not have failed.
   */
  static Map<String, String[]> result(Path work, String party, String step) throws Exception {
    String error = error(work, party, step);
    if (error != null) {
      throw new AssertionError(party + " " + step + " failed: " + error);
    }
    List<String> lines = Files.readAllLines(step(work, party, step).resolve("result.csv"));
    Map<String, String[]> out = new java.util.TreeMap<>();
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",", -1);
      out.put(f[0], f);
    }
    return out;
  }

  static String error(Path work, String party, String step) throws Exception {
    Path f = step(work, party, step).resolve("error.txt");
    return Files.exists(f) ? Files.readString(f) : null;
  }

  /**
   * Seconds {@code party} waited for the others, from its log: from its line "agreeing a session"
   * to its line "session ... agreed" (log lines start with HH:mm:ss.SSS).
   */
  static double sessionWaitSeconds(String log, String party) {
    java.time.LocalTime start = null;
    java.time.LocalTime end = null;
    for (String line : log.lines().toList()) {
      if (line.contains("party " + party + ": ") && line.contains("agreeing a session")) {
        start = java.time.LocalTime.parse(line.substring(0, 12));
      } else if (line.contains("party " + party + ": session ") && line.contains(" agreed")) {
        end = java.time.LocalTime.parse(line.substring(0, 12));
      }
    }
    if (start == null || end == null) {
      throw new AssertionError("no session start and agreement of " + party + " in its log");
    }
    return java.time.Duration.between(start, end).toMillis() / 1000.0;
  }
}
