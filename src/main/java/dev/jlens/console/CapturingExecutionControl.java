package dev.jlens.console;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import jdk.jshell.execution.LocalExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

/**
 * JShell's local execution engine, changed in one respect: the value of each snippet is kept as
 * the object it is, and JShell is handed {@code null} to print.
 *
 * <p>Why: JShell turns every value into a string with {@code toString()} inside the execution
 * engine. For an {@code INDArray} that is slow and unreadable, and for a {@code Run} it formats
 * every activation. The console renders values itself ({@link Printer}), so it needs the object.
 * The snippet's variable still holds the real value; only JShell's own string is replaced.
 *
 * <p>The same wrapper keeps the exception a snippet threw (JShell passes on only its class name,
 * message and a translated stack), for {@code lastError()} and for error hints.
 */
final class CapturingExecutionControl extends LocalExecutionControl {
    private static final Method CALL;

    static {
        try {
            CALL = Captured.class.getDeclaredMethod("call");
            // JShell's engine calls it reflectively from the jdk.jshell module.
            CALL.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    protected String invoke(Method doitMethod) throws Exception {
        Captured.arm(doitMethod);
        // The base class runs CALL on its snippet thread (where stop() and, on JDK 21+, the
        // instrumented stop checks apply); CALL runs the snippet and keeps what it produced.
        return super.invoke(CALL);
    }

    /** What the last snippet produced; written on JShell's snippet thread, read after it joined. */
    static final class Captured {
        private static volatile Method pending;
        private static volatile Object value;
        private static volatile Throwable thrown;
        /** The value of each snippet run since the last {@link #takeValues}, in order (one input may hold several). */
        private static final java.util.List<Object> values = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

        private Captured() {}

        static void arm(Method doit) {
            pending = doit;
            value = null;
            thrown = null;
        }

        /** Runs the armed snippet; returns {@code null} so JShell never calls {@code toString} on the value. */
        @SuppressWarnings("unused") // called reflectively by invoke
        static Object call() throws Throwable {
            Method doit = pending;
            try {
                value = doit.invoke(null);
                values.add(value);
                return null;
            } catch (InvocationTargetException e) {
                // Rethrow the snippet's own exception so JShell reports it as if we were not here.
                thrown = e.getCause();
                throw e.getCause();
            }
        }

        /** The value of the snippet that ran last, and forgets it (an array should not live on here). */
        static Object takeValue() {
            Object v = value;
            value = null;
            return v;
        }

        /** The values of the snippets that ran since the last call, in the order they ran, and forgets them. */
        static java.util.List<Object> takeValues() {
            synchronized (values) {
                java.util.List<Object> out = new java.util.ArrayList<>(values);
                values.clear();
                return out;
            }
        }

        static Throwable takeThrown() {
            Throwable t = thrown;
            thrown = null;
            return t;
        }
    }

    /** Registers the engine with {@code JShell.builder().executionEngine(new Provider(), Map.of())}. */
    static final class Provider implements ExecutionControlProvider {
        @Override
        public String name() {
            return "jlens-local";
        }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            return new CapturingExecutionControl();
        }
    }
}
