package org.sparkmpc.net;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The command line of {@link KeyGen} ({@code bin/keygen party|trust|demo}): parses the arguments
 * and prints what was written (paths and certificate fingerprints, never key material).
 */
@Command(name = "keygen", mixinStandardHelpOptions = true,
    versionProvider = ToolCommands.Version.class,
    subcommands = {KeyGenCommand.Party.class, KeyGenCommand.Trust.class,
        KeyGenCommand.Demo.class, HelpCommand.class},
    description = {"A party's TLS identity for Spark MPC: a private key and a self-signed "
        + "certificate per party, and the trust file holding every party's certificate.",
        "Each party runs 'party' on its own machine and sends only its certificate to the others; "
            + "every party builds the same trust file with 'trust'. 'demo' does both on one "
            + "machine, for trying it out."},
    footer = {"", "A party config names the folder in spark.mpc.keyDir, or each file in",
        "spark.mpc.keyFile, spark.mpc.certFile and spark.mpc.trustFile."})
final class KeyGenCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ToolCommands.USAGE;
  }

  /** The options of commands that write keys. */
  static final class KeyOptions {
    @Option(names = "--out", required = true, paramLabel = "DIR",
        description = "folder to write into (created if needed)")
    Path out;

    @Option(names = "--days", defaultValue = "" + KeyGen.DEFAULT_DAYS, paramLabel = "N",
        description = "days the certificates are valid (default ${DEFAULT-VALUE})")
    int days;

    @Option(names = "--force", description = "replace existing key and certificate files")
    boolean force;
  }

  /** {@code keygen party}: one party's key and certificate. */
  @Command(name = "party", mixinStandardHelpOptions = true,
      description = "Write DIR/NAME.key.pem (private key, EC P-256, PKCS#8, mode 600) and "
          + "DIR/NAME.crt.pem (self-signed certificate, CN=NAME).")
  static final class Party implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "the party's name, as in "
        + "spark.mpc.parties")
    String name;

    @picocli.CommandLine.Mixin
    KeyOptions key;

    @Override
    public Integer call() {
      printParty(KeyGen.generateParty(name, key.out, key.days, key.force), out(spec));
      return 0;
    }
  }

  /** {@code keygen trust}: the trust file. */
  @Command(name = "trust", mixinStandardHelpOptions = true,
      description = "Write a trust file holding the given parties' certificates (a party may "
          + "appear once).")
  static final class Trust implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the trust file")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "CERT.pem",
        description = "certificate files (each one certificate or a bundle)")
    List<Path> certs;

    @Override
    public Integer call() {
      List<String> names = KeyGen.writeTrust(out, certs);
      out(spec).println("wrote " + out + " (trust file: " + String.join(", ", names) + ")");
      return 0;
    }
  }

  /** {@code keygen demo}: every party's files and the trust file, on one machine. */
  @Command(name = "demo", mixinStandardHelpOptions = true,
      description = "Keys and certificates for several parties, and DIR/" + KeyGen.TRUST_FILE_NAME
          + " with all their certificates (for demos and tests on one machine).")
  static final class Demo implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--parties", required = true, paramLabel = "a,b,c",
        description = "the parties' names, comma-separated")
    String parties;

    @picocli.CommandLine.Mixin
    KeyOptions key;

    @Override
    public Integer call() {
      List<String> names = new ArrayList<>();
      for (String n : parties.split(",")) {
        if (!n.isBlank()) {
          names.add(n.trim());
        }
      }
      Path trust = KeyGen.generateDemo(names, key.out, key.days, key.force);
      PrintWriter out = out(spec);
      for (String n : names) {
        printParty(new KeyGen.PartyFiles(n, KeyGen.keyFile(key.out, n), KeyGen.certFile(key.out, n)),
            out);
      }
      out.println("wrote " + trust + " (trust file: " + String.join(", ", names) + ")");
      return 0;
    }
  }

  private static PrintWriter out(CommandSpec spec) {
    return spec.commandLine().getOut();
  }

  private static void printParty(KeyGen.PartyFiles f, PrintWriter out) {
    X509Certificate c = PartyCredentials.readCertificates(f.certFile()).get(0);
    out.println("wrote " + f.keyFile() + " (private key of party '" + f.name() + "'; keep it secret)");
    out.println("wrote " + f.certFile() + " (certificate CN=" + f.name() + ", SHA-256 "
        + PartyCredentials.fingerprint(c) + ", valid until " + c.getNotAfter().toInstant() + ")");
  }
}
