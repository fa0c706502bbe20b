package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** QK/OV circuits, composition scores and virtual heads against products written out by hand. */
class CircuitsTest {
    static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    static INDArray head(INDArray perHead, int h) {
        return perHead.get(NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all());
    }

    static double fro(INDArray m) {
        return m.norm2Number().doubleValue();
    }

    @Test
    void circuitsAreTheHeadsWeightProducts() {
        HookedTransformer model = gpt2();
        INDArray ov = head(model.W_V(1), 2).mmul(head(model.W_O(1), 2));
        INDArray qk = head(model.W_Q(1), 2).mmul(head(model.W_K(1), 2).transpose());
        assertTrue(ov.sub(Circuits.ov(model, 1, 2).AB()).amaxNumber().doubleValue() < 1e-6);
        assertTrue(qk.sub(Circuits.qk(model, 1, 2).AB()).amaxNumber().doubleValue() < 1e-6);
        INDArray fullOvCorner = model.W_E().get(NDArrayIndex.interval(0, 4), NDArrayIndex.all()).mmul(ov)
                .mmul(model.W_U().get(NDArrayIndex.all(), NDArrayIndex.interval(0, 4)));
        assertTrue(fullOvCorner.sub(Circuits.fullOv(model, 1, 2).corner(4)).amaxNumber().doubleValue() < 1e-5);
    }

    @Test
    void compositionOfAHeadWithItselfIsAsComputedByHand() {
        HookedTransformer model = gpt2();
        INDArray ov = head(model.W_V(0), 1).mmul(head(model.W_O(0), 1));                   // [d_model, d_model]
        double byHand = fro(ov.mmul(ov)) / (fro(ov) * fro(ov));
        FactoredMatrix f = Circuits.ov(model, 0, 1);
        assertEquals(byHand, Composition.score(f, f), 1e-5 * byHand);
    }

    @Test
    void allPairsAgreeWithDenseProducts() {
        HookedTransformer model = gpt2();
        INDArray ov0 = head(model.W_V(0), 3).mmul(head(model.W_O(0), 3));
        INDArray q = head(model.W_Q(1), 1), k = head(model.W_K(1), 1);
        INDArray qk = q.mmul(k.transpose()), ov1 = head(model.W_V(1), 1).mmul(head(model.W_O(1), 1));
        double qComp = fro(ov0.mmul(qk)) / (fro(ov0) * fro(qk));
        double kComp = fro(ov0.mmul(qk.transpose())) / (fro(ov0) * fro(qk));
        double vComp = fro(ov0.mmul(ov1)) / (fro(ov0) * fro(ov1));
        assertEquals(qComp, Composition.all(model, Composition.Kind.Q).get(0, 3, 1, 1), 1e-4 * qComp);
        assertEquals(kComp, Composition.all(model, Composition.Kind.K).get(0, 3, 1, 1), 1e-4 * kComp);
        Composition.Scores v = Composition.all(model, Composition.Kind.V);
        assertEquals(vComp, v.get(0, 3, 1, 1), 1e-4 * vComp);
        assertEquals(vComp, Composition.score(model, Composition.Kind.V, 0, 3, 1, 1), 1e-4 * vComp);
        assertTrue(Double.isNaN(v.get(1, 0, 0, 0)) && Double.isNaN(v.get(0, 0, 0, 1)), "only earlier → later pairs");
        assertEquals(4, v.heatmap().rows());
    }

    /**
     * The hand-built induction head reads the previous-token head's output through its keys only:
     * OV₀ maps token t to "previous t", the key reads "previous t" (and position 0, pushed down),
     * so ‖OV₀·W_K·W_Qᵀ‖ = S·√26, ‖OV₀‖ = √26, ‖W_K·W_Qᵀ‖ = S·√52: K-composition 1/√52; nothing
     * reaches its query or value.
     */
    @Test
    void theHandBuiltInductionHeadComposesThroughItsKeys() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        assertEquals(1 / Math.sqrt(52), Composition.score(model, Composition.Kind.K, 0, 0, 1, 0), 1e-5);
        assertEquals(0, Composition.score(model, Composition.Kind.Q, 0, 0, 1, 0), 1e-6);
        assertEquals(0, Composition.score(model, Composition.Kind.V, 0, 0, 1, 0), 1e-6);
        assertEquals(1 / Math.sqrt(52), Composition.all(model, Composition.Kind.K).get(0, 0, 1, 0), 1e-5);
    }

    @Test
    void theInductionHeadsOvCircuitCopiesTokens() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        Circuits.OvTopTokens top = Circuits.ovTopTokens(model, 1, 0, 3, "a", "q", "z");
        System.out.println(top);
        for (boolean c : top.copies()) assertTrue(c);
        assertEquals(1, Circuits.copyingScore(model, 1, 0), 1e-6);
        // W_E·OV·W_U is the 26×26 identity: norm √26, 26 singular values of 1.
        FactoredMatrix full = Circuits.fullOv(model, 1, 0);
        assertEquals(Math.sqrt(26), full.frobeniusNorm(), 1e-5);
        for (double s : full.svd().S()) assertTrue(Math.abs(s - 1) < 1e-5 || Math.abs(s) < 1e-5, "singular value " + s);
        FactoredMatrix.Eigenvalues e = Circuits.fullOv(model, 1, 0).eigenvalues();
        for (double re : e.re()) assertTrue(Math.abs(re - 1) < 1e-6 || Math.abs(re) < 1e-6, e.toString());
    }

    @Test
    void aVirtualHeadIsTheProductOfTheTwoHeads() {
        HookedTransformer model = gpt2();
        INDArray ov0 = head(model.W_V(0), 0).mmul(head(model.W_O(0), 0));
        INDArray ov1 = head(model.W_V(1), 2).mmul(head(model.W_O(1), 2));
        assertTrue(ov0.mmul(ov1).sub(VirtualHead.ov(model, 0, 0, 1, 2).AB()).amaxNumber().doubleValue() < 1e-5);
        INDArray tokens = model.toTokens("one two three one two");
        var run = model.runWithCache(tokens);
        INDArray a0 = run.cache().get("pattern", 0).slice(0).slice(0), a1 = run.cache().get("pattern", 1).slice(0).slice(2);
        assertTrue(a1.mmul(a0).sub(VirtualHead.pattern(model, tokens, 0, 0, 1, 2)).amaxNumber().doubleValue() < 1e-6);
        Circuits.OvTopTokens t = VirtualHead.topTokens(model, "one two three one two", 0, 0, 1, 2, 3);
        assertEquals(tokens.length(), t.inputs().size());
        System.out.println(t);
    }
}
