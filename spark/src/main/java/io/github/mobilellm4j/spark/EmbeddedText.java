package io.github.mobilellm4j.spark;

import java.io.Serializable;

/**
 * One row of {@link MobileLlmDatasets#embed}: a text and its embedding (a Java bean, so that
 * {@code Encoders.bean(EmbeddedText.class)} maps it to the columns text and vector). For a null text the vector is
 * null.
 */
public class EmbeddedText implements Serializable {
    private static final long serialVersionUID = 1L;

    private String text;
    private float[] vector;

    public EmbeddedText() {
    }

    EmbeddedText(String text, float[] vector) {
        this.text = text;
        this.vector = vector;
    }

    /** The text embedded. */
    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }

    /** Its embedding, as {@code Model.embed} gives it. */
    public float[] getVector() {
        return vector;
    }

    public void setVector(float[] vector) {
        this.vector = vector;
    }
}
