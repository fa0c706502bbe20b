// jlens default startup: what every session starts with. Copy and edit it, then: ./jlens --startup my.jsh
// The helpers (run, cache, topk, logitLens, show, help, …) are bound to the session's model.
// Each line is one JShell snippet and costs ~50 ms of start-up, so the list is short; add what you use.
import java.util.*;
import static dev.jlens.console.Helpers.*;
import dev.jlens.model.*;
import dev.jlens.analysis.*;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import static org.nd4j.linalg.indexing.NDArrayIndex.*;

HookedTransformer model = model();   // waits here if the model is still loading
var tokenizer = model.hasTokenizer() ? model.tokenizer() : null;   // null: a folder without tokenizer files runs on ids
ModelConfig cfg = model.cfg();
