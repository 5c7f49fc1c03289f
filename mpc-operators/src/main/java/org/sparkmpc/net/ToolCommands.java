package org.sparkmpc.net;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.sparkmpc.MpcInputException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What the command-line tools at a party's edge ({@code bin/keygen}, {@code bin/gateway}, {@code
 * bin/dealer}, the party runner) share: the same exit codes (0 done, 1 failed, 2 usage error), a
 * usage error printed as one line naming the bad argument and a hint to {@code --help}, a failure
 * printed as one line with its message (never a stack trace: messages name files, parties and
 * settings, never key material), and {@code --version}.
 */
public final class ToolCommands {
  /** Exit status of a failed operation. */
  public static final int FAILED = 1;
  /** Exit status of a usage or configuration error. */
  public static final int USAGE = 2;

  private ToolCommands() {}

  /**
   * Run {@code command} (a picocli {@code @Command}) with {@code args}, printing to {@code out}
   * and {@code err}.
   *
   * @return the exit status
   */
  public static int execute(Object command, PrintStream out, PrintStream err, String... args) {
    CommandLine cl = new CommandLine(command);
    PrintWriter o = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter e = new PrintWriter(err, true, StandardCharsets.UTF_8);
    cl.setOut(o);
    cl.setErr(e);
    cl.setParameterExceptionHandler((ex, args1) -> {
      CommandLine c = ex.getCommandLine();
      c.getErr().println(name(c) + ": " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr());
      c.getErr().println("Try '" + name(c) + " --help' for usage.");
      c.getErr().flush();
      return USAGE;
    });
    cl.setExecutionExceptionHandler((ex, c, parsed) -> {
      c.getErr().println(name(c) + ": " + describe(ex));
      c.getErr().flush();
      return FAILED;
    });
    try {
      return cl.execute(args);
    } finally {
      o.flush();
      e.flush();
    }
  }

  /** {@code keygen party}: the command's name with its parents'. */
  private static String name(CommandLine c) {
    return c.getCommandSpec().qualifiedName(" ");
  }

  /** An error's message; its class too when the message alone would not say what happened. */
  public static String describe(Throwable e) {
    String m = e.getMessage();
    return e instanceof IllegalArgumentException || e instanceof IllegalStateException
        || e instanceof UncheckedIOException || e instanceof MpcInputException
        || e instanceof MpcChannelException
        ? m : e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** {@code --version}: the version of the jar the tool runs from, as its manifest gives it. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Spec
    CommandSpec spec;

    @Override
    public String[] getVersion() {
      String v = ToolCommands.class.getPackage().getImplementationVersion();
      return new String[] {spec.root().name() + " (Spark MPC) "
          + (v == null ? "development build" : v)};
    }
  }
}
