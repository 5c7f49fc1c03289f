package org.sparkmpc.spark.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;

/**
 * The runner checks a job's settings before it starts a session, so that a mistake keeps the
 * party from joining with an error naming the key: the job kind, and for {@code job=logistic} the
 * solvers and intercept it cannot honour, mini-batch keys without that solver, and its numbers.
 */
class PartyRunnerConfigTest {
  static Properties logistic() {
    Properties p = new Properties();
    p.setProperty("spark.mpc.party", "bank1");
    p.setProperty("job", "logistic");
    p.setProperty("regression.table", "tx");
    p.setProperty("regression.features", "income,age");
    p.setProperty("regression.label", "fraud");
    return p;
  }

  static String refusal(Properties p) {
    return assertThrows(MpcInputException.class, () -> PartyRunner.job(p)).getMessage();
  }

  @Test
  void logisticSettingsDefaultToTheEstimators() {
    assertEquals("logistic", PartyRunner.job(logistic()));
    assertEquals(new PartyRunner.LogisticSettings("newton", 0.0, 10, true, 128, 1.0),
        PartyRunner.logisticSettings(logistic()));
    Properties p = logistic();
    p.setProperty("regression.regParam", "0.01");
    p.setProperty("regression.maxIter", "6");
    p.setProperty("regression.standardization", "false");
    p.setProperty("regression.solver", "newton");
    p.setProperty("regression.intercept", "true");
    assertEquals(new PartyRunner.LogisticSettings("newton", 0.01, 6, false, 128, 1.0),
        PartyRunner.logisticSettings(p));
    p.setProperty("regression.solver", "minibatch");
    p.setProperty("regression.batchSize", "64");
    p.setProperty("regression.stepSize", "0.5");
    assertEquals(new PartyRunner.LogisticSettings("minibatch", 0.01, 6, false, 64, 0.5),
        PartyRunner.logisticSettings(p));
  }

  @Test
  void aSolverOtherThanNewtonOrMinibatchIsRefusedForLogistic() {
    for (String solver : new String[] {"mpc", "revealGram", "lbfgs", "Newton"}) {
      Properties p = logistic();
      p.setProperty("regression.solver", solver);
      String m = refusal(p);
      assertTrue(m.startsWith("regression.solver=" + solver + " is not a solver of "
          + "job=logistic: use newton (the default"), m);
      assertTrue(m.contains("or minibatch"), m);
    }
    Properties linear = logistic();
    linear.setProperty("job", "regression");
    linear.setProperty("regression.solver", "revealGram");
    assertEquals("regression", PartyRunner.job(linear), "revealGram stays a regression solver");
  }

  @Test
  void otherLogisticMistakesNameTheKey() {
    String[][] cases = {
        {"regression.intercept", "false", "regression.intercept=false is not available"},
        {"regression.regParam", "much", "regression.regParam must be a number"},
        {"regression.regParam", "-1", "regParam must be in [0, 100]"},
        {"regression.maxIter", "2.5", "regression.maxIter must be a whole number"},
        {"regression.maxIter", "0", "maxIter must be in [1, 100]"},
        {"regression.standardization", "yes", "regression.standardization must be true or "
            + "false"},
        {"regression.batchSize", "64", "regression.batchSize applies to "
            + "regression.solver=minibatch only"},
        {"regression.stepSize", "0.5", "regression.stepSize applies to "
            + "regression.solver=minibatch only"},
        {"regression.label", " ", "no 'regression.label'"}};
    for (String[] c : cases) {
      Properties p = logistic();
      p.setProperty(c[0], c[1]);
      String m = refusal(p);
      assertTrue(m.contains(c[2]), c[0] + "=" + c[1] + ": " + m);
    }
    Properties mb = logistic();
    mb.setProperty("regression.solver", "minibatch");
    mb.setProperty("regression.batchSize", "0");
    assertTrue(refusal(mb).contains("batchSize must be in [1, 2^20]"), refusal(mb));
    mb.setProperty("regression.batchSize", "32");
    mb.setProperty("regression.stepSize", "0");
    assertTrue(refusal(mb).contains("stepSize must be in (0, 64]"), refusal(mb));
    Properties p = logistic();
    p.setProperty("job", "classify");
    assertEquals("job must be sql, regression, logistic or federated, was 'classify'", refusal(p));
  }

  @Test
  void aRefusedJobStartsNoSession() {
    Properties p = logistic();
    p.setProperty("regression.solver", "revealGram");
    assertThrows(MpcInputException.class, () -> PartyRunner.run(p));
    assertFalse(SparkSession.getActiveSession().isDefined()
        || SparkSession.getDefaultSession().isDefined(), "a Spark session was started");
  }
}
