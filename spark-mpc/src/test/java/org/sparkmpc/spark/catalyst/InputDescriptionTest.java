package org.sparkmpc.spark.catalyst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The description of an operator's input, which the plan agreement compares across parties, is
 * the same whether a party runs the plan with whole-stage code generation or without (a notebook
 * kernel must turn it off, a party runner has it on), and still tells different plans apart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InputDescriptionTest {
  SparkSession spark;

  @BeforeAll
  void start() {
    spark = SparkSession.builder().master("local[1]").appName("input-description")
        .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.adaptive.enabled", "false").getOrCreate();
  }

  @AfterAll
  void stop() {
    spark.stop();
  }

  /** The executed plan of a filter and projection over a shuffle, with codegen on or off. */
  SparkPlan plan(boolean wholeStage, long threshold) {
    spark.conf().set("spark.sql.codegen.wholeStage", Boolean.toString(wholeStage));
    try {
      return spark.range(100).repartition(2).filter("id > " + threshold)
          .selectExpr("id * 2 AS x").queryExecution().executedPlan();
    } finally {
      spark.conf().unset("spark.sql.codegen.wholeStage");
    }
  }

  /** Whether {@code p} or a node under it is of the class named {@code simpleName}. */
  static boolean has(SparkPlan p, String simpleName) {
    if (p.getClass().getSimpleName().equals(simpleName)) {
      return true;
    }
    for (SparkPlan c : ScalaInterop.list(p.children())) {
      if (has(c, simpleName)) {
        return true;
      }
    }
    return false;
  }

  static String describe(SparkPlan p) {
    return SecureExec.describeInput(p, "session-1", table -> null);
  }

  @Test
  void wholeStageCodegenIsLeftOutOfTheDescription() {
    SparkPlan on = plan(true, 5);
    SparkPlan off = plan(false, 5);
    assertTrue(has(on, "WholeStageCodegenExec") && has(on, "InputAdapter"), on.toString());
    assertFalse(has(off, "WholeStageCodegenExec") || has(off, "InputAdapter"), off.toString());
    assertEquals(describe(off), describe(on));
    assertTrue(describe(on).startsWith("Project[x:bigint]<-Exchange<-Filter("), describe(on));
    assertNotEquals(describe(on), describe(plan(true, 6)), "another literal, another plan");
  }
}
