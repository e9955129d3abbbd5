package io.github.mobilellm4j;

/**
 * What a loaded model is. layers counts applied layers (KV-cache slots): blocks times blockRepeat.
 */
public record ModelInfo(String architecture, String name, int vocabSize, int contextLength, int embeddingLength,
        int feedForwardLength, int headCount, int headCountKv, int headDim, int blocks, int blockRepeat, int layers,
        float rmsNormEps, float ropeFreqBase, int fileType, boolean tiedEmbeddings, long parameterCount,
        long sizeBytes, int bosToken, int eosToken, int unkToken, int padToken, boolean addBos, boolean addEos,
        Backend backend, int threads) {
}
