package org.sparkmpc.spark.runner;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.sparkmpc.net.PartySettings;
import org.sparkmpc.net.ToolCommands;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The command line of {@link PartyRunner} ({@code spark-submit --class ...PartyRunner JAR
 * CONFIG}): checks the argument and the config's {@code spark.mpc.*} keys, then runs the party's
 * job. Exit status 0 when the job succeeded, 1 when it failed (one line {@code spark-mpc: party
 * NAME failed: MESSAGE}; messages name parties, columns and settings, never values), 2 for a usage
 * error.
 */
@Command(name = "PartyRunner", mixinStandardHelpOptions = true,
    versionProvider = ToolCommands.Version.class,
    description = {"One party's side of a joint Spark MPC job: shares the named columns of the "
        + "party's tables and runs a SQL query (or a regression) in lockstep with the other "
        + "parties; the recipients write the revealed result.",
        "Run it with spark-submit: spark-submit --class org.sparkmpc.spark.runner.PartyRunner "
            + "spark-mpc-dist.jar CONFIG"},
    footer = {"", "Keys of CONFIG (see the README, \"Running a party with spark-submit\"):",
        "  spark.mpc.*              the Spark MPC settings (party, parties, key files: keyDir or",
        "                           keyFile/certFile/trustFile, ...); an unknown one is refused",
        "  spark.*                  other Spark settings, passed to the session",
        "  input.<table>.path, .format, .schema, .share, .alignBy, .intersectBy",
        "                           the party's tables and the columns it shares",
        "  query                    one SQL query over the tables (job=query, the default)",
        "  job                      query, regression or logistic",
        "  regression.*             the regression jobs' table, features, label and options",
        "  output, explain          where the result and the executed plan go"})
final class RunnerCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "CONFIG", description = "the party config (properties)")
  Path configFile;

  /** Run the command line, printing to {@code out} and {@code err}; returns the exit status. */
  static int run(PrintStream out, PrintStream err, String... args) {
    return ToolCommands.execute(new RunnerCommand(), out, err, args);
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    Properties conf = new Properties();
    try {
      conf = PartyRunner.load(configFile);
      PartySettings.refuseUnknown(conf);
      PartyRunner.run(conf);
      return 0;
    } catch (IOException e) {
      return failed(err, conf, "cannot read the party config " + configFile + ": "
          + e.getClass().getSimpleName() + " " + e.getMessage());
    } catch (Exception e) {
      // Messages of this project's errors name parties, columns and settings, never values.
      return failed(err, conf, e.getMessage());
    }
  }

  private static int failed(PrintWriter err, Properties conf, String message) {
    err.println("spark-mpc: party " + conf.getProperty("spark.mpc.party", "?") + " failed: "
        + message);
    err.flush();
    return ToolCommands.FAILED;
  }
}
