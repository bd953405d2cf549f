using DefenseBench.Defenses.SecureAggregation;

namespace DefenseBench.Defenses.Tests.SecureAggregation;

/// <summary>
/// Published test vectors for the primitives, and fixed keys → fixed masks for their wiring. The expected wiring
/// values were computed independently with OpenSSL 3.0 (`openssl kdf ... HKDF`) and Python's `cryptography`
/// (HKDF-SHA256, AES-256-CTR with a zero counter block, little-endian 32-bit words).
/// </summary>
public sealed class KnownAnswerTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    // RFC 5903 §8.1 (ECDH on P-256): initiator i, responder r, shared x-coordinate g^ir.
    private const string I = "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433";
    private const string R = "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53";
    private const string GirX = "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE";

    [Fact]
    public void Key_agreement_matches_rfc_5903_on_p256()
    {
        using var initiator = KeyPair.FromPrivateKey(Hex(I));
        using var responder = KeyPair.FromPrivateKey(Hex(R));

        Assert.Equal("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180", Convert.ToHexString(initiator.Public.Point.X));
        Assert.Equal("5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3", Convert.ToHexString(initiator.Public.Point.Y));
        Assert.Equal(GirX, Convert.ToHexString(initiator.RawAgreement(responder.Public)));
        Assert.Equal(GirX, Convert.ToHexString(responder.RawAgreement(initiator.Public)));
    }

    [Fact]
    public void Hkdf_sha256_matches_rfc_5869_test_case_1()
    {
        var okm = System.Security.Cryptography.HKDF.DeriveKey(System.Security.Cryptography.HashAlgorithmName.SHA256,
            Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), 42, Hex("000102030405060708090a0b0c"), Hex("f0f1f2f3f4f5f6f7f8f9"));

        Assert.Equal("3CB25F25FAACD57A90434F64D0362F2A2D2D0A90CF1A5A4C5DB02D56ECC4C5BF34007208D5B887185865", Convert.ToHexString(okm));
    }

    [Fact]
    public void The_kdf_gives_each_purpose_its_own_key()
    {
        Assert.Equal("B45FCE9BB3024DC41386568455C031BA45D5C2A8C1A19B5F34C546FF5FAEF891", Convert.ToHexString(KeyPair.Derive(Hex(GirX), KeyPurpose.PairwiseMask)));
        Assert.Equal("B509FE6F0BD50216B6E20CDC82E806BA29C61F378B8AC009FC69A826734D630E", Convert.ToHexString(KeyPair.Derive(Hex(GirX), KeyPurpose.ShareEncryption)));
    }

    [Fact]
    public void The_prg_is_aes_256_ctr_as_in_nist_sp_800_38a_f_5_5()
    {
        var key = Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
        var counter = UInt128.Parse("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", System.Globalization.NumberStyles.HexNumber);
        var plaintext = Hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
        using var prg = new MaskPrg(key, counter);

        var keystream = new byte[plaintext.Length];
        prg.Keystream(keystream);

        var ciphertext = plaintext.Zip(keystream, (p, k) => (byte)(p ^ k)).ToArray();
        Assert.Equal("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
            Convert.ToHexString(ciphertext).ToLowerInvariant());
    }

    [Fact]
    public void Fixed_keys_give_fixed_pairwise_masks_on_both_sides()
    {
        using var u = KeyPair.FromPrivateKey(Hex(I));
        using var v = KeyPair.FromPrivateKey(Hex(R));
        ulong[] expected = [195623769, 258009552, 3613338303, 1904685548, 1371963299, 1188649258];

        using var fromU = new MaskPrg(u.Agree(v.Public, KeyPurpose.PairwiseMask));
        using var fromV = new MaskPrg(v.Agree(u.Public, KeyPurpose.PairwiseMask));

        Assert.Equal(expected, fromU.Residues(6, Modulus.PowerOfTwo(32)));
        Assert.Equal(expected, fromV.Residues(6, Modulus.PowerOfTwo(32)));
    }

    [Theory]
    [InlineData(20UL, new ulong[] { 588633, 59856, 993983, 471532, 425891, 612650 })]
    [InlineData(1000003UL, new ulong[] { 623184, 8778, 327464, 679836, 959186, 645694 })]
    // R = 3·2^30: words ≥ 3·2^30 are rejected (the third word of this stream is one), the rest taken as they are.
    [InlineData(3221225472UL, new ulong[] { 195623769, 258009552, 1904685548, 1371963299, 1188649258, 483014960 })]
    [InlineData(40UL, new ulong[] { 893548821337, 1017225620159, 181760589731, 661907978544 })]
    public void Masks_are_read_from_the_keystream_by_rejection_sampling(ulong modulusOrBits, ulong[] expected)
    {
        var modulus = modulusOrBits < 64 ? Modulus.PowerOfTwo((int)modulusOrBits) : new Modulus(modulusOrBits);
        using var prg = new MaskPrg(KeyPair.Derive(Hex(GirX), KeyPurpose.PairwiseMask));

        Assert.Equal(expected, prg.Residues(expected.Length, modulus));
    }
}
