import java.io.IOException;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Checks the artifacts a release would upload to Maven Central, as the release build installed them
 * into a local Maven repository (./mvnw -Prelease -Dgpg.skip install; signing is the only step left
 * out): every POM carries the metadata Central requires (name, description, url, licences,
 * developers, scm, here or inherited from the parent POM), every published jar comes with non-empty
 * sources and javadoc jars and the licence files, the native jars hold each platform's library, and
 * every jar has a legal module name (the module path takes all of them together).
 *
 * <pre>java ci/ReleaseCheck.java LOCAL_REPOSITORY VERSION</pre>
 */
public class ReleaseCheck {
    static final String GROUP = "io.github.mobilellm4j";
    static final Map<String, String> LIBRARIES = Map.of("linux-x86_64", "libmobilellm.so", "linux-aarch64", "libmobilellm.so",
            "windows-x86_64", "mobilellm.dll", "macos-aarch64", "libmobilellm.dylib", "macos-x86_64", "libmobilellm.dylib");
    /** Published jar artifacts and their module names (null: a module-info decides, checked below). */
    static final Map<String, String> JARS = new TreeMap<>(Map.ofEntries(
            Map.entry("mobilellm4j-native", "io.github.mobilellm4j.natives"),
            Map.entry("mobilellm4j-bindings", "io.github.mobilellm4j.bindings"),
            Map.entry("mobilellm4j-converters", "io.github.mobilellm4j.convert"),
            Map.entry("mobilellm4j-demo-model", "io.github.mobilellm4j.demo"),
            Map.entry("mobilellm4j-api", "io.github.mobilellm4j"),
            Map.entry("mobilellm4j-hub", "io.github.mobilellm4j.hub"),
            Map.entry("mobilellm4j-langchain4j", "io.github.mobilellm4j.langchain4j"),
            Map.entry("mobilellm4j-spring-ai", "io.github.mobilellm4j.spring.ai"),
            Map.entry("mobilellm4j-spark", "io.github.mobilellm4j.spark"),
            Map.entry("mobilellm4j-server", "io.github.mobilellm4j.server"),
            Map.entry("mobilellm4j", "io.github.mobilellm4j.all")));

    final Path repo;
    final String version;
    final List<String> problems = new ArrayList<>();
    int checks;

    ReleaseCheck(Path repo, String version) {
        this.repo = repo;
        this.version = version;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: java ci/ReleaseCheck.java LOCAL_REPOSITORY VERSION");
            System.exit(2);
        }
        ReleaseCheck c = new ReleaseCheck(Path.of(args[0]), args[1]);
        c.run();
        if (!c.problems.isEmpty()) {
            c.problems.forEach(p -> System.err.println("FAIL " + p));
            System.err.println("release check: " + c.problems.size() + " problem(s) in " + c.checks + " checks");
            System.exit(1);
        }
        System.out.println("release check: all " + c.checks + " checks passed");
    }

    Path file(String artifact, String classifier, String ext) {
        return repo.resolve(GROUP.replace('.', '/')).resolve(artifact).resolve(version)
                .resolve(artifact + "-" + version + (classifier == null ? "" : "-" + classifier) + "." + ext);
    }

    void check(boolean ok, String what) {
        checks++;
        if (!ok) problems.add(what);
    }

    void run() throws Exception {
        Element parent = pom("mobilellm4j-parent");
        for (String a : JARS.keySet()) {
            Element pom = pom(a);
            if (pom == null || parent == null) continue;
            checkMetadata(a, pom, parent);
            Path jar = file(a, null, "jar");
            check(Files.isRegularFile(jar), a + ": no jar " + jar);
            checkNonEmpty(a, "sources", file(a, "sources", "jar"));
            checkNonEmpty(a, "javadoc", file(a, "javadoc", "jar"));
            if (Files.isRegularFile(jar)) checkJar(a, jar);
        }
        for (String platform : LIBRARIES.keySet()) checkNative(platform);
        checkApiModule();
        checkAggregator();
        checkModulePath();
    }

    Element pom(String artifact) throws Exception {
        Path p = file(artifact, null, "pom");
        check(Files.isRegularFile(p), artifact + ": no POM " + p);
        if (!Files.isRegularFile(p)) return null;
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(false);
        Document d = f.newDocumentBuilder().parse(p.toFile());
        return d.getDocumentElement();
    }

    static Element child(Element e, String name) {
        for (Node n = e == null ? null : e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(name)) return c;
        }
        return null;
    }

    static String text(Element e, String... path) {
        Element cur = e;
        for (String p : path) cur = child(cur, p);
        return cur == null ? "" : cur.getTextContent().trim();
    }

    /** Central's required metadata, from the POM itself or (url, licences, developers, scm) inherited from the parent. */
    void checkMetadata(String a, Element pom, Element parent) {
        check(!text(pom, "name").isEmpty(), a + ": POM has no <name>");
        check(text(pom, "description").length() > 20, a + ": POM has no real <description>");
        for (String inherited : List.of("url", "licenses", "developers", "scm")) {
            Element own = child(pom, inherited);
            Element e = own != null ? own : child(parent, inherited);
            check(e != null && !e.getTextContent().isBlank(), a + ": no <" + inherited + "> in its POM or the parent's");
        }
        Element licenses = child(pom, "licenses") != null ? child(pom, "licenses") : child(parent, "licenses");
        Element license = child(licenses, "license");
        check(text(license, "name").equals("Apache-2.0") && text(license, "url").startsWith("https://"),
                a + ": licence is not Apache-2.0 with a URL");
        Element scm = child(pom, "scm") != null ? child(pom, "scm") : child(parent, "scm");
        check(!text(scm, "connection").isEmpty() && !text(scm, "url").isEmpty(), a + ": scm lacks connection or url");
        String url = text(pom, "url").isEmpty() ? text(parent, "url") : text(pom, "url");
        check(url.startsWith("https://"), a + ": url " + url);
        check(text(pom, "version").isEmpty() || text(pom, "version").equals(version), a + ": version " + text(pom, "version"));
    }

    void checkNonEmpty(String a, String kind, Path jar) throws IOException {
        check(Files.isRegularFile(jar), a + ": no " + kind + " jar " + jar.getFileName());
        if (!Files.isRegularFile(jar)) return;
        try (JarFile j = new JarFile(jar.toFile())) {
            long content = j.stream().filter(e -> !e.isDirectory() && !e.getName().startsWith("META-INF/")).count();
            check(content > 0, a + ": " + kind + " jar has no content");
            if (kind.equals("javadoc")) check(j.getEntry("index.html") != null, a + ": javadoc jar has no index.html");
        }
    }

    void checkJar(String a, Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            check(j.getEntry("META-INF/LICENSE") != null && j.getEntry("META-INF/NOTICE") != null,
                    a + ": jar lacks META-INF/LICENSE or NOTICE");
        }
        try {
            ModuleDescriptor d = ModuleFinder.of(jar).findAll().iterator().next().descriptor();
            check(d.name().equals(JARS.get(a)), a + ": module name " + d.name() + ", expected " + JARS.get(a));
        } catch (FindException e) {
            check(false, a + ": not usable on the module path: " + e.getMessage());
        }
    }

    void checkNative(String platform) throws IOException {
        Path jar = file("mobilellm4j-native", platform, "jar");
        check(Files.isRegularFile(jar), "mobilellm4j-native: no jar for " + platform);
        if (!Files.isRegularFile(jar)) return;
        String lib = "io/github/mobilellm4j/native/" + platform + "/" + LIBRARIES.get(platform);
        try (JarFile j = new JarFile(jar.toFile())) {
            check(j.getEntry(lib) != null && j.getEntry(lib).getSize() > 100_000, platform + ": jar lacks " + lib);
            check(j.getEntry("META-INF/LICENSE") != null, platform + ": jar lacks META-INF/LICENSE");
            Set<String> others = j.stream().map(e -> e.getName()).filter(n -> n.startsWith("io/github/mobilellm4j/native/")
                    && !n.startsWith("io/github/mobilellm4j/native/" + platform + "/") && !n.endsWith("/")).collect(Collectors.toSet());
            check(others.isEmpty(), platform + ": jar holds other platforms' files " + others);
        }
        String expected = "io.github.mobilellm4j.natives." + platform.replace('-', '.');
        try {
            String name = ModuleFinder.of(jar).findAll().iterator().next().descriptor().name();
            check(name.equals(expected), platform + ": module name " + name + ", expected " + expected);
        } catch (FindException e) {
            check(false, platform + ": not usable on the module path: " + e.getMessage());
        }
    }

    /** The API module exports its public packages and nothing else; the bindings share their internals with it only. */
    void checkApiModule() {
        ModuleDescriptor api = descriptor("mobilellm4j-api");
        ModuleDescriptor bindings = descriptor("mobilellm4j-bindings");
        if (api == null || bindings == null) return;
        check(!api.isAutomatic() && !bindings.isAutomatic(), "the API and the bindings must have a module-info");
        Map<String, Set<String>> apiExports = exports(api);
        check(apiExports.equals(Map.of("io.github.mobilellm4j", Set.of(), "io.github.mobilellm4j.chat", Set.of(),
                "io.github.mobilellm4j.eval", Set.of(), "io.github.mobilellm4j.sampling", Set.of(),
                "io.github.mobilellm4j.service", Set.of())), "API module exports " + apiExports);
        Map<String, Set<String>> bExports = exports(bindings);
        check(bExports.equals(Map.of("io.github.mobilellm4j.bindings", Set.of(),
                "io.github.mobilellm4j.bindings.internal", Set.of("io.github.mobilellm4j"))), "bindings module exports " + bExports);
    }

    static Map<String, Set<String>> exports(ModuleDescriptor d) {
        Map<String, Set<String>> m = new TreeMap<>();
        d.exports().forEach(e -> m.put(e.source(), new TreeSet<>(e.targets())));
        return m;
    }

    ModuleDescriptor descriptor(String a) {
        try {
            return ModuleFinder.of(file(a, null, "jar")).findAll().iterator().next().descriptor();
        } catch (RuntimeException e) {
            check(false, a + ": no module descriptor: " + e);
            return null;
        }
    }

    /** One dependency for applications: the API and the five platform jars. */
    void checkAggregator() throws Exception {
        Element pom = pom("mobilellm4j");
        if (pom == null) return;
        Set<String> deps = new TreeSet<>();
        for (Node n = child(pom, "dependencies").getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element d) deps.add(text(d, "artifactId") + (text(d, "classifier").isEmpty() ? "" : ":" + text(d, "classifier")));
        }
        Set<String> want = new TreeSet<>(Set.of("mobilellm4j-api"));
        LIBRARIES.keySet().forEach(p -> want.add("mobilellm4j-native:" + p));
        check(deps.equals(want), "aggregator depends on " + deps + ", expected " + want);
    }

    /** All published jars on one module path: names legal and distinct, no package split between them. */
    void checkModulePath() {
        List<Path> jars = new ArrayList<>();
        JARS.keySet().forEach(a -> jars.add(file(a, null, "jar")));
        LIBRARIES.keySet().forEach(p -> jars.add(file("mobilellm4j-native", p, "jar")));
        if (!jars.stream().allMatch(Files::isRegularFile)) return;
        try {
            Set<ModuleReference> all = ModuleFinder.of(jars.toArray(Path[]::new)).findAll();
            Set<String> names = new HashSet<>();
            all.forEach(r -> names.add(r.descriptor().name()));
            check(names.size() == jars.size(), "module path: " + jars.size() + " jars but " + names.size() + " module names " + names);
            Map<String, String> owner = new TreeMap<>();
            for (ModuleReference r : all) {
                for (String p : r.descriptor().packages()) {
                    String prev = owner.put(p, r.descriptor().name());
                    check(prev == null, "package " + p + " in both " + prev + " and " + r.descriptor().name());
                }
            }
        } catch (FindException e) {
            check(false, "the published jars do not share a module path: " + e.getMessage());
        }
    }
}
