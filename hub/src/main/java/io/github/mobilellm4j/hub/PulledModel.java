package io.github.mobilellm4j.hub;

import java.nio.file.Path;

/**
 * A model fetched from the hub, ready to load.
 *
 * @param repo the repository
 * @param commit the commit it came from
 * @param type the type of the GGUF file (e.g. "q8_0"); for a GGUF file of the repository chosen without a type, the
 *     file's name tells it and this is null
 * @param path the GGUF file: in the hub cache's snapshot when the repository holds GGUF files, else the file
 *     converted from its checkpoint in the model cache
 * @param converted whether the file was converted from a checkpoint (now or by an earlier pull)
 */
public record PulledModel(RepoId repo, String commit, String type, Path path, boolean converted) {
}
