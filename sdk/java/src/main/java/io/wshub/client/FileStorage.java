// Cursors in a directory, one small file per key (the key hex-encoded as its name), replaced
// whole through a temporary file and a rename so that a crash leaves the old value or the new
// one. Cursors are written on every publication, so no fsync: losing the last few positions
// in a power cut costs a "positionLost" or a duplicate the cursor filters, not data.
package io.wshub.client;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

public final class FileStorage implements CursorStorage {
    private static final Charset UTF8 = Charset.forName("UTF-8");
    private final File directory;

    public FileStorage(File directory) throws IOException {
        if (!directory.isDirectory() && !directory.mkdirs()) throw new IOException("cannot create " + directory);
        this.directory = directory;
    }

    @Override
    public synchronized String get(String key) throws IOException {
        File file = fileFor(key);
        InputStream in;
        try {
            in = new FileInputStream(file);
        } catch (FileNotFoundException absent) {
            return null;
        }
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            for (int n; (n = in.read(buffer)) > 0; ) bytes.write(buffer, 0, n);
            return new String(bytes.toByteArray(), UTF8);
        } finally {
            in.close();
        }
    }

    @Override
    public synchronized void set(String key, String value) throws IOException {
        File file = fileFor(key);
        File temp = new File(directory, file.getName() + ".tmp");
        FileOutputStream out = new FileOutputStream(temp);
        try {
            out.write(value.getBytes(UTF8));
        } finally {
            out.close();
        }
        if (!temp.renameTo(file)) throw new IOException("cannot rename " + temp + " to " + file);
    }

    @Override
    public synchronized void remove(String key) {
        fileFor(key).delete();
    }

    // File names are at most 255 bytes: a long key (a channel name may have 255) is named by
    // its SHA-256 instead of its hex.
    private File fileFor(String key) {
        byte[] bytes = key.getBytes(UTF8);
        String prefix = "c-";
        if (bytes.length > 100) {
            prefix = "h-";
            try {
                bytes = MessageDigest.getInstance("SHA-256").digest(bytes);
            } catch (NoSuchAlgorithmException impossible) {
                throw new IllegalStateException(impossible);
            }
        }
        StringBuilder name = new StringBuilder(prefix);
        for (byte b : bytes) name.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
        return new File(directory, name.toString());
    }
}
