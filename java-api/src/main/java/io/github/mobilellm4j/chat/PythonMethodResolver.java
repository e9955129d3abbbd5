package io.github.mobilellm4j.chat;

import java.beans.FeatureDescriptor;
import java.util.Iterator;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Resolves Python method calls on strings and dicts ({@code content.startswith('x')},
 * {@code message.get('k', d)}) with Python semantics (PythonValues); everything else goes to
 * Jinjava's own resolver.
 */
final class PythonMethodResolver extends ELResolver {
    private final ELResolver delegate;

    PythonMethodResolver(ELResolver delegate) {
        this.delegate = delegate;
    }

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        Object[] args = params == null ? new Object[0] : params;
        Object r = PythonValues.NOT_HANDLED;
        if (base instanceof CharSequence s && method != null) r = PythonValues.strMethod(s.toString(), method.toString(), args);
        else if (base instanceof Map<?, ?> m && method != null) r = PythonValues.dictMethod(m, method.toString(), args);
        if (r != PythonValues.NOT_HANDLED) {
            context.setPropertyResolved(true);
            return r;
        }
        return delegate.invoke(context, base, method, paramTypes, params);
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return delegate.getCommonPropertyType(context, base);
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return delegate.getFeatureDescriptors(context, base);
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return delegate.getType(context, base, property);
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return delegate.getValue(context, base, property);
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return delegate.isReadOnly(context, base, property);
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        delegate.setValue(context, base, property, value);
    }
}
