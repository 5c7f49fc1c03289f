package org.sparkmpc.spark.catalyst;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.catalyst.expressions.And;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GreaterThan;
import org.apache.spark.sql.catalyst.expressions.LessThan;
import org.apache.spark.sql.catalyst.expressions.Literal;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.Not;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.junit.jupiter.api.Test;
import org.sparkmpc.MpcInputException;
import org.sparkmpc.spark.types.ShareType;

/** The registry of secure operators: the README's table and the compiler of secret predicates. */
class SecureOperatorsTest {

  private static AttributeReference share(String name, int scale, int bits) {
    return new AttributeReference(name, ShareType.column(scale, scale == 0, "t", bits), false,
        Metadata.empty(), NamedExpression.newExprId(), ScalaInterop.seqOf());
  }

  @Test
  void readmeSupportTableIsGeneratedFromTheRegistry() throws Exception {
    String text = Files.readString(Path.of("..", "README.md"));
    assertTrue(text.contains("<!-- secure-operators:start -->\n"
        + SecureOperators.markdownTable() + "<!-- secure-operators:end -->"),
        "README.md's support table is stale; regenerate it with SecureOperators.main");
    assertTrue(SecureOperators.supported().startsWith("Supported: "));
    for (SecureOperators.Entry e : SecureOperators.ENTRIES) {
      assertTrue(SecureOperators.supported().contains(e.sql()), e.sql());
    }
  }

  @Test
  void compilesComparisonsAndLogicIntoOneProgram() {
    AttributeReference amount = share("amount", 16, 30);
    AttributeReference items = share("items", 0, 5);
    Expression cond = new And(new GreaterThan(amount, Literal.create(10000, DataTypes.IntegerType)),
        new Not(new LessThan(items, Literal.create(3, DataTypes.IntegerType))));
    SecureExpr x = SecureOperators.compile(cond);
    assertEquals(2, x.inputs.size());
    assertTrue(x.isBit(x.root()));
    assertEquals(SecureExpr.Op.AND, x.ops.get(x.root()));
    // amount > 10000 is 10000·2^16 < amount: the literal on the column's grid
    assertTrue(x.constant.contains(10000L << 16), x.constant.toString());
  }

  @Test
  void literalsLandOnTheGridSoComparisonsAreExact() {
    Literal c = Literal.create(2.5, DataTypes.DoubleType);
    assertEquals(2L, SecureOperators.encode(c, 0, RoundingMode.FLOOR, c));
    assertEquals(3L, SecureOperators.encode(c, 0, RoundingMode.CEILING, c));
    assertEquals(null, SecureOperators.encode(c, 0, RoundingMode.UNNECESSARY, c));
    assertEquals(5L << 15, SecureOperators.encode(c, 16, RoundingMode.UNNECESSARY, c));
  }

  @Test
  void refusesDifferentScalesOutOfRangeConstantsAndWideColumns() {
    AttributeReference amount = share("amount", 16, 30);
    AttributeReference items = share("items", 0, 5);
    MpcInputException scales = assertThrows(MpcInputException.class,
        () -> SecureOperators.compile(new LessThan(amount, items)));
    assertTrue(scales.getMessage().contains("different fixed-point scales"), scales.getMessage());
    MpcInputException range = assertThrows(MpcInputException.class,
        () -> SecureOperators.compile(new GreaterThan(amount, Literal.create(1e15,
            DataTypes.DoubleType))));
    assertTrue(range.getMessage().contains("outside the fixed-point range"), range.getMessage());
    AttributeReference wide = share("total", 0, 63);
    MpcInputException bits = assertThrows(MpcInputException.class,
        () -> SecureOperators.compile(new GreaterThan(wide, Literal.create(1,
            DataTypes.IntegerType))));
    assertTrue(bits.getMessage().contains("below 2^62") && bits.getMessage().contains("total"),
        bits.getMessage());
  }

  @Test
  void aNullInAPublicColumnOfASecretPredicateIsRefusedNotCounted() {
    AttributeReference amount = share("amount", 16, 30);
    AttributeReference region = new AttributeReference("region", DataTypes.StringType, true,
        Metadata.empty(), NamedExpression.newExprId(), ScalaInterop.seqOf());
    Expression north = new org.apache.spark.sql.catalyst.expressions.EqualTo(region,
        Literal.create("north", DataTypes.StringType));
    // NOT (amount > 5 OR region = 'north'): SQL drops a row whose region is NULL
    SecureExpr x = SecureOperators.compile(new Not(new org.apache.spark.sql.catalyst.expressions
        .Or(new GreaterThan(amount, Literal.create(5, DataTypes.IntegerType)), north)));
    int pub = x.ops.indexOf(SecureExpr.Op.PUBLIC);
    assertTrue(pub >= 0, x.ops.toString());
    Expression[] preds = new Expression[x.size()];
    preds[pub] = x.predicate.get(pub);
    Object[] dict = {org.apache.spark.unsafe.types.UTF8String.fromString("north"),
        org.apache.spark.unsafe.types.UTF8String.fromString("south")};
    try (org.sparkmpc.spark.table.SharePartition clean = new org.sparkmpc.spark.table
        .SharePartition(3, new long[][] {{1, 2, 3}}, new int[][] {{0, 1, 0}},
            new Object[][] {dict})) {
      boolean[][] bits = DeepPartials.publicBits(clean, x, preds, java.util.List.of(region));
      assertTrue(bits[pub][0] && !bits[pub][1] && bits[pub][2]);
    }
    Object[] withNull = {org.apache.spark.unsafe.types.UTF8String.fromString("north"), null};
    try (org.sparkmpc.spark.table.SharePartition nulls = new org.sparkmpc.spark.table
        .SharePartition(2, new long[][] {{1, 2}}, new int[][] {{0, 1}},
            new Object[][] {withNull})) {
      MpcInputException e = assertThrows(MpcInputException.class,
          () -> DeepPartials.publicBits(nulls, x, preds, java.util.List.of(region)));
      assertTrue(e.getMessage().contains("NULL") && e.getMessage().contains("region"),
          e.getMessage());
    }
  }
}
