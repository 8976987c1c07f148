"""The words that point to triage slot values, in English and Swedish (used by bot.slots).

Weights matter only for `AREA`, where the best-scoring kind of activity wins. Patterns run on lower-cased,
normalised text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from knowledge.text import any_of


@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]
    weight: float = 1.0
    negatable: bool = True  # False for phrases that already carry their own negation ("without consent")
    not_after: re.Pattern[str] | None = None  # a match right after this does not count

    def matches(self, text: str) -> list[re.Match[str]]:
        found = self.pattern.finditer(text)
        if self.not_after is None:
            return list(found)
        veto = self.not_after
        return [m for m in found if not veto.search(text[max(0, m.start() - 30) : m.start()])]


class Cues(tuple[Cue, ...]):
    """The cues of one slot value, with one pattern that finds any of them: most texts name none of a value's
    cues, and one search says so where a search per cue would take a dozen."""

    @cached_property
    def _any(self) -> re.Pattern[str]:
        return any_of(c.pattern.pattern for c in self)

    def could_match(self, text: str) -> bool:
        return bool(self._any.search(text))


def cues(*patterns: str, weight: float = 1.0, negatable: bool = True, not_after: str | None = None) -> Cues:
    veto = re.compile(not_after) if not_after else None
    return Cues(Cue(re.compile(p), weight, negatable, veto) for p in patterns)


def together(*groups: Cues) -> Cues:
    return Cues(cue for group in groups for cue in group)


NEGATION = re.compile(
    r"\b(no|not|never|without|none|neither|nor|nothing|don't|doesn't|won't|isn't|aren't|wasn't|weren't|"
    r"wouldn't|haven't|hasn't|didn't|cannot|can't|free of|rule out|ruled out|inga|ingen|inget|inte|"
    r"utan|aldrig|varken|ej|icke)\b|n't\b"
)
# Negation after the cue: "animal experiments are not planned", "security: no".
# ", not a ...", ", inte en ...": what follows the cue is what is denied.
CONTRAST = re.compile(r"^(?P<rest>[^,.;!?]{0,25}),\s*(?:not|inte|snarare än|rather than)\b")
# A word right before a cue that denies it ("not research", "neither researchers nor teachers").
DENIAL = re.compile(r"not|no|neither|nor|non|never|inte|varken|ej|icke")
TRAILING_NEGATION = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:not|no|none|never|fine|ok|okay|unproblematic|in order|under control|inte|ej|nej|"
    r"inga|ingen|okej|i sin ordning)\b|^\W*(?:\w+\W+){0,3}?\w+n't\b"
)
# A question tag after the cue ("..., doesn't it?", "..., eller hur?") asks for agreement; it negates nothing.
QUESTION_TAG = re.compile(
    r",\s*(?:\w+n't|is it not|does it not|do they not|right|eller hur|va|inte sant)\b(?:\s+(?:it|they|we|he|she|"
    r"you|there|i))?\s*\??\s*$"
)
# Where a negation stops reaching forward: a new clause with its own subject.
CLAUSE_BREAK = re.compile(
    r"[.;!?\n]|\b(?:but|however|although|though|whereas|yet|men|fast|dock|även om)\b|"
    r"(?:,\s*|\b)(?:and|so|because|since|while|och|eftersom|så)\s+(?=(?:we|i|they|he|she|it|the|our|my|their|"
    r"there|vi|jag|de|han|hon|den|det|partnern|vår|min)\b)"
)
NEGATION_REACH = 6  # words
# Doubt is not denial: "I'm not sure it's ethically sound" raises the concern it names.
DOUBT = re.compile(
    r"\b(?:not (?:sure|certain|convinced|confident)|unsure|uncertain|in doubt|doubtful|don't know (?:if|whether)|"
    r"inte (?:säker|övertygad)|osäker|tveksam)\b"
)
COMPLIANCE = re.compile(
    r"\b(?:respect\w*|follow\w*|compl\w+|protect\w*|meet\w*|uphold\w*|guarantee\w*|ensur\w+|adher\w+|"
    r"care about|safeguard\w*|respekter\w*|följ\w*|skydd\w*|garanter\w*)\b"
)

ABROAD_COUNTRY = re.compile(
    r"\b(?:in|i|to|till|at|from)\s+(?!Sweden\b|Sverige\b|Stockholm\b|Solna\b|Huddinge\b)[A-ZÅÄÖ][a-zåäö]+"
)


PROGRAMME = (
    r"\b(?:programmes?|programs?|programmet|programmen)\b"
    r"|\b(?!forsknings|utbytes|fou|ram)\w+program(?:met|men)?\b"  # Swedish compounds: läkarprogrammet
)
# "programme" as an education programme, not a research, funding or exchange programme
NOT_EDUCATION = (
    r"\b(?:research|funding|framework|horizon|eu|erasmus|grant|exchange|mobility|forsknings|utbytes)[- ]$"
)


AREA: dict[str, Cues] = {
    "doctoral_education": cues(
        r"\bph\.?d\.?\b",
        r"\bdoctoral\b",
        r"\bdoctorate\b",
        r"\bdoktorand\w*",
        r"\bforskarutbildning\w*",
        r"\bforskarniv\w+",
        r"\bforskarstuderande\b",
        r"\bcotutelle\b",
        r"\bdual (?:degree|doctorate)\b",
        weight=6,  # a PhD named settles it, whatever research words come with it
    ),
    "first_second_cycle_education": together(
        cues(PROGRAMME, weight=3, not_after=NOT_EDUCATION),
        cues(
            r"(?<!of )\bcourses?\b",
            r"\bkurs(?:en|er|erna)?\b",
            r"\bundergraduate\b",
            r"\bprogramme board\b|\bun/pn\b|\butbildningsnämnd\w*|\bprogramnämnd\w*",
            weight=3,
        ),
        cues(r"\b(?:first|second)[- ]cycle\b", r"\bgrundniv\w+", r"\bavancerad niv\w+", weight=4),
        cues(
            r"\bbachelor'?s?\b",
            r"\bmaster'?s?\b",
            r"\bteaching\b",
            r"\bundervisning\b",
            r"\bcurriculum\b",
            r"\bclinical placement\w*|\bvfu\b|\bverksamhetsförlagd\w*",
            r"\bhigher education\b",
            weight=2,
        ),
        cues(r"\bstudy visits?\b|\bstudiebesök\w*", r"\bstudents\b|\bstudenter(?:na)?\b", r"\beducation\b"),
    ),
    "student_mobility": together(
        cues(
            r"\b(?:exchange|utbytes)[- ]?"
            r"(?:students?|studies|semesters?|studier|termin\w*|period|year|term)\b",
            r"\bstud(?:y|ying|ies) abroad\b",
            r"\bsemester abroad\b",
            r"\bstudera utomlands\b",
            r"\bstudier utomlands\b",
            r"\bgo(?:ing)? on (?:an )?exchange\b",
            r"\berasmus\b",
            r"\b(?:i am|i'm|as) an? (?:\w+ )?(?:student|undergraduate)\b",
            r"\bjag är (?:\w+)?(?:student|studerande)\b",
            r"\b(?:placement|internship|praktik|vfu) (?:abroad|overseas|utomlands)\b",
            r"\b(?:åka|resa) på utbyte\b",
            r"\bindividual student\b|\benskild student\b",
            weight=3,
        ),
        cues(
            r"\bstudent (?:wants|would like|plans|is planning|is going|will go|will spend|hopes)\b",
            r"\bone of (?:my|our) students\b",
            r"\bstudent of mine\b",
            r"\ben av (?:mina|våra) studenter\b",
            weight=2,
        ),
        cues(r"\ba student\b", r"\ben student\b", r"\butbyte\b"),
    ),
    "research": together(
        cues(
            r"\bresearch(?:ers?|ing)?\b",
            r"\bscientists?\b|\bvetenskapsm[aä]n\w*",
            r"\bforsk\w*",
            r"\bpost-?docs?\b|\bpostdoctoral\b",
            r"\bprincipal investigator\b",
            r"\bclinical trials?\b",
            r"\blab(?:s|oratory|oratories)?\b",
            r"\bconsorti(?:um|a)\b|\bhorizon (?:europe|2020)\b|\berc\b|\bmarie (?:sk[lł]odowska-)?curie\b",
            r"\b(?:sequencing|pipeline|algorithms?|preprints?|manuscripts?)\b",
            weight=2,
        ),
        cues(
            r"\bexperiments?\b",
            r"\bproject\b|\bprojekt\w*",
            r"\bco-?authors?\w*|\bpublications?\b|\bpapers?\b",
            r"\bgrants?\b",
            r"\bcohorts?\b",
            r"\bdata(?: ?sets?)?\b|\bsamples\b",
            r"\bbiobank\w*",
            r"\bcolleagues?\b|\bkollega\w*",
            r"\bstudie\b|\bstudien\b",
            r"\bprofessors?\b",
            r"\bmouse\b|\bmice\b|\bzebra ?fish\w*|\brats?\b|\banimal (?:experiments?|studies|models?)\b",
        ),
        cues(r"\bstud(?:y|ies)\b(?! visits?| abroad| programmes?)", not_after=r"\b(?:exchange|to|will)\s$"),
    ),
    "other": together(
        cues(
            r"\bneither research nor education\b",
            r"\bnot (?:about )?research or education\b",
            r"\bnågot annat\b",
            weight=5,
        ),
        # a unit of KI's own outside research and education says whose activity it is
        cues(
            r"\bprofessional services\b|\buniversity administration\b|\bgvs\b|\bgemensamma verksamhetsstöd\w*",
            r"\b(?:our|my|ki's) (?:\w+ ){0,2}?(?:communications?|press|hr|human resources|personnel|finance|it|"
            r"facilities|procurement|alumni|library|administrative) (?:unit|office|department|team|division|"
            r"section)\b",
            r"\b(?:our|my|ki's) library\b",
            r"\b(?:vår|min|kis|ki:s) (?:\w+ )?(?:kommunikations|press|personal|ekonomi|it|inköps|alumn)"
            r"(?:avdelning|enhet|kontor)\w*",
            weight=3,
        ),
    ),
}
AREA_THRESHOLD = 2.0

FORMAL = cues(
    r"\bsign(?:ed|ing|s)?\b(?! up| off|-off)",
    r"\bagreements?\b",
    r"\bmou\b|\bmemorandum of understanding\b",
    r"\bcontracts?\b",
    r"\bformal(?:ly)?\b",
    r"\bformali[sz](?:e|ed|es|ing|ation)\b",
    r"\w*avtal\w*",
    r"\bunderteck\w+|\bskriva under\b|\bskrivit under\b|\bformell\w*|\bformaliser\w*|\bavsiktsförklaring\w*",
)
INFORMAL = cues(
    r"\binformal(?:ly)?\b",
    r"\binformell\w*",
    r"\bindividual collaboration\b",
    r"\bindividuellt samarbete\b",
    r"\bon a personal basis\b",
    r"\bpersonal contact\b",
    r"\bno paperwork\b|\bwithout (?:any )?paperwork\b|\bnothing (?:on paper|in writing|written down)\b",
    r"\binget (?:på papper|skriftligt)\b",
    r"\b(?:just|only) (?:the two of us|(?:me|him|her) and (?:me|him|her|a colleague))\b",
    r"\bbetween (?:the two of us|me and (?:him|her|a colleague|my colleague))\b",
    r"\b(?:(?:i|we)'ve been|(?:i|we) have been) (?:emailing|e-mailing|writing to|talking to|chatting with)\b",
    r"\bpå (?:eget|personligt) initiativ\b|\bbara (?:vi två|jag och (?:en kollega|hen|han|hon))\b",
    r"\bmellan (?:mig och|oss två)\b",
    negatable=False,
)
LEVEL = {
    "programme": together(
        cues(PROGRAMME, not_after=NOT_EDUCATION),
        cues(r"\bprogramme level\b|\bprogram ?niv\w+", r"\bprogramme board\b|\bun/pn\b"),
    ),
    "course": cues(r"(?<!of )\bcourses?\b", r"\bkurs(?:en|er|erna)?\b", r"\bcourse level\b|\bkursniv\w+"),
}
KU = cues(
    r"\b(?:managed|run|administered|owned|overseen|governed|led) by (?:the )?ku\b",
    r"\bku[- ](?:managed|run|led)\b",
    r"\bku (?:manages|runs|is responsible|has (?:the )?(?:programme )?responsibility)\b",
    r"\bunder ku\b",
    r"\bku'?s programmes?\b",
    r"\bku ansvarar\b",
    r"\bprogramansvar\w* (?:ligger |är )?(?:hos|vid|på) ku\b",
    r"\bku har (?:program)?ansvar\w*",
    r"\bcommittee for (?:first and second cycle|higher) education\b",
    r"\bku\b",
)
DEPARTMENT_MANAGED = cues(
    r"\b(?:managed|run|administered|owned|led) by (?:the |a |our |my |one )?(?:department|institution)\b",
    r"\bdepartment[- ](?:managed|run|led)\b",
    r"\b(?:our|my|the) department(?:'s)? (?:own )?(?:[\w']+ ){0,2}programmes?\b",
    r"\b(?:our|my|the|a) department (?:is responsible for|runs|manages|owns|leads|gives|has (?:the )?programme "
    r"responsibility)\b",
    r"\b(?:vår|min|en) institution (?:ansvarar för|har programansvar\w*|driver|ger)\b",
    r"\binstitutionens (?:eget |egna )?\w*program\w*",
    r"\binstitutionen (?:ansvarar|har programansvar\w*)\b",
    r"\bprogramansvar\w* (?:ligger |är )?(?:hos|vid|på) (?:en |vår |min )?institution\w*",
    negatable=False,
)
ANIMALS = cues(
    r"\banimals?\b",
    r"\bmouse\b|\bmice\b|\bmurine\b",
    r"\brats?\b|\brodents?\b",
    r"\bzebra ?fish\w*",
    r"\bprimates?\b|\bmonkeys?\b|\bmacaques?\b",
    r"\bpigs?\b|\bpiglets?\b|\bsheep\b|\brabbits?\b|\bferrets?\b",
    r"\bin vivo\b",
    r"\bxenografts?\b",
    r"\bdjur\w*",
    r"\bmöss\b|\bmus\b|\bråtto?r?\w*|\bzebrafisk\w*",
    r"\bgnagare\b|\bapor\b|\bgrisar?\b",
    r"\b(?:mus|råtto?|fisk|apo?|gris)(?:försök|modell|studie)\w*",
)
ABROAD = cues(
    r"\babroad\b|\boverseas\b|\butomlands\b|\bforeign\b|\butländsk\w*",
    r"\bpartner(?:s|'s|s')?\b|\bpartnern?s?\b|\bsamarbetspartner\w*",
    r"\b(?:their|its) (?:lab|laboratory|facility|facilities|institute|university|site|side|end)\b",
    r"\bhos (?:dem|partnern|dom)\b|\bi deras\b",
    negatable=False,
)
HOME = cues(
    r"\b(?:at|here at|in) (?:ki|karolinska|sweden|stockholm|solna|huddinge|flemingsberg)\b",
    r"\bhere\b",
    r"\bin-house\b",
    r"\bour (?:own )?(?:lab|animal facility|facility)\b",
    r"\bi sverige\b|\bpå ki\b|\bhos oss\b|\bhär\b",
    r"\bi (?:stockholm|solna|huddinge|flemingsberg)\b",
    r"\b(?:vårt|vår|våra) (?:eget |egen |egna )?(?:labb|laboratorium|djurhus|djuranläggning|lokaler)\b",
    negatable=False,
)
SECURITY = together(
    cues(
        r"\bmisus\w*",
        r"\bdual[- ]use\b",
        r"\bespionage\b|\bspy\w*|\bspies\b",
        r"\bmilitar\w*",
        r"\bweapons?\b",
        r"\bexport control\w*",
        r"\bsanction\w*",
        r"\bsurveillance\b",
        r"(?<!food )(?<!social )(?<!water )(?<!energy )(?<!job )(?<!income )(?<!financial )(?<!health )"
        r"\bsecurity\b(?! forum)",
        r"\bsensitive (?:technolog\w+|data|information|research|knowledge)\b",
        r"\b(?:ip|technology|data) theft\b|\bsteal\w*|\bstolen\b",
        r"\b(?:undue|foreign|state|political) "
        r"(?:influence|interference|pressure)\b",
        r"\bcyber\w*|\bhack\w*",
        r"\bleak(?:s|ed|ing|age)?\b",
        r"\bclassified\b",
        r"\bintelligence (?:service|agenc)\w*",
        r"\btechnology transfer\b",
        r"\bsäkerhet(?!sforum)\w*",
        r"\bspionage\w*|\bspion\w*",
        r"\bmissbruk\w*",
        r"\bmilitär\w*",
        r"\bvapen\w*",
        r"\bexportkontroll\w*",
        r"\bsanktion\w*",
        r"\bövervakning\w*",
        r"\bdubbla användningsområden\b",
        r"\b(?:otillbörlig|utländsk) påverkan\b",
        r"\bstöld\w*",
    ),
)
ETHICAL = together(
    cues(
        r"\bethic(?:s|al|ally)?\b"
        r"(?! (?:approval|review|permit|application|board|committee|vetting|clearance))",
        r"\bunethical\b",
        r"\bhuman rights\b|\b(?:patients?|participants?|workers?|subjects?|minorit\w+)'? rights\b",
        r"\bacademic freedom\b",
        r"\bcorrupt\w*",
        r"\bbrib\w*",
        r"\bmisconduct\b",
        r"\bfabricat\w*",
        r"\bfalsif\w*",
        r"\bplagiar\w*",
        r"\bexploit\w*",
        r"\bforced (?:labou?r|organ)\w*",
        r"\borgan (?:harvest|trafficking)\w*",
        r"\btorture\b",
        r"\bdeath penalty\b",
        r"\bdiscriminat\w*",
        r"\bvulnerable (?:groups?|populations?|patients|people)\b",
        r"\bdignity\b",
        r"\bprivacy\b",
        r"\bquestionable\b",
        r"\bdubious\b",
        r"\bshady\b",
        r"\betisk\w*+(?! prövning| granskning| godkänn)|\betik(?:en)?\b",
        r"\boetisk\w*",
        r"\bmänskliga rättigheter\w*",
        r"\bkorruption\w*",
        r"\bmut(?:a|or|ade)\b",
        r"\bforskningsfusk\w*|\bfusk\w*",
        r"\bakademisk frihet\b",
        r"\butnyttj\w*",
        r"\bdiskriminer\w*",
        r"\bintegritet\w*",
    ),
    cues(
        r"\b(?:lack of|without|no|absence of|questionable|unclear|doubtful) (?:informed )?consent\b",
        r"\butan samtycke\b",
        negatable=False,
    ),
)
NO_CONCERNS = re.compile(
    r"\bno (?:other )?(?:concerns?|worries|issues|problems|red flags)\b|\bnothing (?:problematic|sensitive|"
    r"special|worrying|of concern)\b|\binga (?:farhågor|problem|bekymmer|frågetecken)\b|"
    r"\bnone of (?:these|them|"
    r"the above)\b|\binget av (?:detta|dessa)\b|\bnothing like that\b"
)
YES_ANSWER = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|correct|right|indeed|absolutely|of course|it is|there is|there are|we do|"
    r"we will|we have|it does|ja|japp|jo|absolut|stämmer|det gör|det är det|det finns|det kommer)\b"
)
NO_ANSWER = re.compile(
    r"^(?:no|nope|nah|not really|not at all|none|nothing|never|negative|nej|nä|nix|inga|ingen|inget|inte)\b"
)
INFORMAL_AGREEMENT = re.compile(
    r"\b(?:informal|informell\w*|verbal|oral|muntlig\w*|unwritten)\s+(?:\w+\s+)?(?:agreements?|avtal\w*|contracts?)\b"
)
SIGNED_WORDS = re.compile(
    r"\b(?:sign|signed|signing|mou|memorandum|underteck\w+|formali[sz]\w*|formell\w*)\b"
)
